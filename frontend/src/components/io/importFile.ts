// The file the person chose, read once, and the body sent for it: as it is
// when its headers already name the fields, else written again with the
// header row the mapping says (columns left out dropped).
import { decodeUtf8, parseCsv, writeCsv, type CsvRecord, type CsvTable } from "./csv";
import { isIdentity, type Mapping } from "./mapping";
import type { Workbook } from "./xlsx";
import type { PreviewColumn } from "./PreviewTable";
import type { FieldMeta } from "../../api/models";

export const CSV_TYPE = "text/csv";
export const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

export interface LoadedFile {
  name: string;
  size: number;
  kind: "csv" | "xlsx";
  bytes: ArrayBuffer;
  /** The file's header and lines, read here (a workbook's first sheet). */
  table: CsvTable;
  records: Map<number, CsvRecord>;
  /** A workbook, to write again with the mapped header. */
  workbook: Workbook | null;
}

/** The bytes of a chosen file (FileReader: every browser, and the test DOM). */
export function readBytes(blob: Blob): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error ?? new Error("The file could not be read."));
    reader.readAsArrayBuffer(blob);
  });
}

export type FileKind = LoadedFile["kind"] | "other";

export function kindOf(file: { name: string; type: string }): FileKind {
  const name = file.name.toLowerCase();
  if (name.endsWith(".xlsx") || file.type === XLSX_TYPE) return "xlsx";
  // Windows often names a CSV's type application/vnd.ms-excel.
  if (name.endsWith(".csv") || file.type === CSV_TYPE || file.type === "application/vnd.ms-excel") return "csv";
  return "other";
}

/**
 * The file read: a CSV decoded and parsed here, a workbook's first sheet
 * read (xlsx.ts, loaded only when a workbook is chosen). Null when a CSV is
 * not UTF-8 or a workbook cannot be read here: the server is then sent the
 * file, and says what is wrong with it.
 */
export async function loadFile(name: string, kind: LoadedFile["kind"], bytes: ArrayBuffer): Promise<LoadedFile | null> {
  let table: CsvTable;
  let workbook: Workbook | null = null;
  if (kind === "xlsx") {
    try {
      const { readWorkbook } = await import("./xlsx");
      workbook = await readWorkbook(bytes);
    } catch {
      return null;
    }
    table = workbook.table;
  } else {
    const text = decodeUtf8(bytes);
    if (text === null) return null;
    table = parseCsv(text);
  }
  return { name, size: bytes.byteLength, kind, bytes, table, records: new Map(table.records.map((r) => [r.line, r])), workbook };
}

/**
 * What is sent: the file itself when its header already names the fields,
 * else the file with the mapped header and without the columns left out
 * (csv.ts writeCsv, xlsx.ts rewrite). The same file and mapping give the
 * same bytes: the apply sends what the preview saw.
 */
export function requestBody(file: LoadedFile, mapping: Mapping): { body: Blob; contentType: string } {
  const contentType = file.kind === "xlsx" ? XLSX_TYPE : CSV_TYPE;
  if (isIdentity(file.table.header, mapping)) return { body: new Blob([file.bytes]), contentType };
  const keep = file.table.header.map((h, i) => (mapping[h] ? i : -1)).filter((i) => i >= 0);
  const header = keep.map((i) => mapping[file.table.header[i]]);
  if (file.workbook) return { body: file.workbook.rewrite(header, keep), contentType };
  return { body: new Blob([writeCsv(file.table, header, keep)]), contentType };
}

/** The file's mapped columns, as the preview shows them. */
export function previewColumns(file: LoadedFile, mapping: Mapping, fields: FieldMeta[]): PreviewColumn[] {
  return file.table.header.flatMap((header, index) => {
    const field = mapping[header];
    if (!field) return [];
    return [{ header, index, field, label: fields.find((f) => f.name === field)?.label ?? field }];
  });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}
