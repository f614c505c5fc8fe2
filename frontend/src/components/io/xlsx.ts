// An Excel workbook (.xlsx) read in the browser for the import wizard, as
// far as the wizard needs: the first sheet's header row and its cells (to
// map and preview), and the workbook written again with the header the
// mapping chose, the columns left out removed. Everything else in the
// workbook (styles, other sheets, number formats) is copied as it is: the
// server reads the values.
//
// An .xlsx file is a ZIP archive of XML parts; entries are inflated with the
// browser's DecompressionStream and the changed sheet is stored uncompressed.
import type { CsvRecord, CsvTable } from "./csv";

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  time: number;
  date: number;
  /** The entry's data, as stored (compressed or not). */
  data: Uint8Array;
}

const MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

export class NotAWorkbook extends Error {}

function entries(bytes: ArrayBuffer): Entry[] {
  const view = new DataView(bytes);
  const all = new Uint8Array(bytes);
  let end = -1;
  for (let i = bytes.byteLength - 22; i >= Math.max(0, bytes.byteLength - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new NotAWorkbook("The file is not an Excel workbook (.xlsx).");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const found: Entry[] = [];
  const names = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new NotAWorkbook("The workbook's archive is damaged.");
    const method = view.getUint16(at + 10, true);
    const time = view.getUint16(at + 12, true);
    const date = view.getUint16(at + 14, true);
    const crc = view.getUint32(at + 16, true);
    const compressedSize = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = names.decode(all.subarray(at + 46, at + 46 + nameLength));
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    found.push({ name, method, crc, compressedSize, size, time, date, data: all.subarray(start, start + compressedSize) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return found;
}

async function inflate(entry: Entry): Promise<string> {
  if (entry.method === 0) return new TextDecoder().decode(entry.data);
  if (entry.method !== 8) throw new NotAWorkbook(`The workbook uses a compression this page cannot read (${entry.method}).`);
  const data = entry.data;
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });
  const stream = source.pipeThrough(new DecompressionStream("deflate-raw") as unknown as TransformStream<Uint8Array, Uint8Array>);
  return await new Response(stream).text();
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The archive again, each entry as given (a changed one stored uncompressed). */
function zip(all: Entry[]): Blob {
  const parts: BlobPart[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const encoder = new TextEncoder();
  for (const entry of all) {
    const name = encoder.encode(entry.name);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x0800, true); // UTF-8 names, sizes in this header
    local.setUint16(8, entry.method, true);
    local.setUint16(10, entry.time, true);
    local.setUint16(12, entry.date, true);
    local.setUint32(14, entry.crc, true);
    local.setUint32(18, entry.compressedSize, true);
    local.setUint32(22, entry.size, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);
    parts.push(local.buffer, name as BlobPart, entry.data as BlobPart);
    const header = new DataView(new ArrayBuffer(46));
    header.setUint32(0, 0x02014b50, true);
    header.setUint16(4, 20, true);
    header.setUint16(6, 20, true);
    header.setUint16(8, 0x0800, true);
    header.setUint16(10, entry.method, true);
    header.setUint16(12, entry.time, true);
    header.setUint16(14, entry.date, true);
    header.setUint32(16, entry.crc, true);
    header.setUint32(20, entry.compressedSize, true);
    header.setUint32(24, entry.size, true);
    header.setUint16(28, name.length, true);
    header.setUint32(42, offset, true);
    const record = new Uint8Array(46 + name.length);
    record.set(new Uint8Array(header.buffer), 0);
    record.set(name, 46);
    central.push(record);
    offset += 30 + name.length + entry.data.length;
  }
  const size = central.reduce((n, c) => n + c.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, all.length, true);
  end.setUint16(10, all.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  return new Blob([...parts, ...(central as BlobPart[]), end.buffer]);
}

function xml(text: string): Document {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length > 0) throw new NotAWorkbook("The workbook holds a damaged part.");
  return doc;
}

const byLocal = (root: Document | Element, name: string) => Array.from(root.getElementsByTagNameNS("*", name));

/** "A" → 0, "AB" → 27: a cell reference's column. */
function columnIndex(ref: string): number {
  let n = 0;
  for (const c of ref.replace(/[0-9$]/g, "").toUpperCase()) n = n * 26 + (c.charCodeAt(0) - 64);
  return n - 1;
}

function columnName(index: number): string {
  let name = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

function cellText(cell: Element, shared: string[]): string {
  const type = cell.getAttribute("t");
  if (type === "inlineStr") return byLocal(cell, "t").map((t) => t.textContent ?? "").join("");
  const value = byLocal(cell, "v")[0]?.textContent ?? "";
  if (type === "s") return shared[Number(value)] ?? "";
  if (type === "b") return value === "1" ? "true" : "false";
  return value;
}

/** Each cell of a row by its column (a cell without a reference follows the one before). */
function rowCells(row: Element): [number, Element][] {
  let next = 0;
  return byLocal(row, "c").map((cell) => {
    const ref = cell.getAttribute("r");
    const index = ref ? columnIndex(ref) : next;
    next = index + 1;
    return [index, cell];
  });
}

export interface Workbook {
  /** The first sheet's rows as a table: line = the row's number (the header is the first row with a value). */
  table: CsvTable;
  /** The workbook with `header` on the header row, only the columns `keep` (in that order). */
  rewrite: (header: string[], keep: number[]) => Blob;
}

export async function readWorkbook(bytes: ArrayBuffer): Promise<Workbook> {
  const all = entries(bytes);
  const find = (name: string) => all.find((e) => e.name === name);
  const book = find("xl/workbook.xml");
  const rels = find("xl/_rels/workbook.xml.rels");
  if (!book || !rels) throw new NotAWorkbook("The file is not an Excel workbook (.xlsx).");
  const first = byLocal(xml(await inflate(book)), "sheet")[0];
  const id = first?.getAttributeNS(REL_NS, "id") ?? first?.getAttribute("r:id");
  const target = byLocal(xml(await inflate(rels)), "Relationship").find((r) => r.getAttribute("Id") === id)?.getAttribute("Target");
  if (!target) throw new NotAWorkbook("The workbook has no sheet.");
  const sheetName = target.startsWith("/") ? target.slice(1) : `xl/${target}`;
  const sheetEntry = find(sheetName);
  if (!sheetEntry) throw new NotAWorkbook("The workbook's first sheet is missing.");
  const stringsEntry = find("xl/sharedStrings.xml");
  const shared = stringsEntry
    ? byLocal(xml(await inflate(stringsEntry)), "si").map((si) => byLocal(si, "t").map((t) => t.textContent ?? "").join(""))
    : [];
  const sheetText = await inflate(sheetEntry);
  const rows = byLocal(xml(sheetText), "row");
  const { header, records, headerAt } = readRows(rows, shared);

  // Each time from the sheet as read: the same mapping gives the same bytes
  // (the apply sends the very file the preview saw).
  const rewrite = (names: string[], keep: number[]): Blob => {
    const sheet = xml(sheetText);
    const place = new Map(keep.map((from, to) => [from, to]));
    byLocal(sheet, "row").forEach((row, position) => {
      const number = row.getAttribute("r");
      for (const [index, cell] of rowCells(row)) {
        const to = place.get(index);
        if (to === undefined) {
          cell.remove();
          continue;
        }
        if (number) cell.setAttribute("r", `${columnName(to)}${number}`);
        if (position === headerAt) {
          while (cell.firstChild) cell.removeChild(cell.firstChild);
          cell.setAttribute("t", "inlineStr");
          const is = sheet.createElementNS(MAIN_NS, "is");
          const t = sheet.createElementNS(MAIN_NS, "t");
          t.textContent = names[to];
          is.appendChild(t);
          cell.appendChild(is);
        }
      }
      row.removeAttribute("spans");
    });
    const data = new TextEncoder().encode(new XMLSerializer().serializeToString(sheet));
    const changed: Entry = { ...sheetEntry, method: 0, crc: crc32(data), compressedSize: data.length, size: data.length, data };
    return zip(all.map((e) => (e === sheetEntry ? changed : e)));
  };
  return { table: { header, records }, rewrite };
}

/** The header (the first row with a value) and the lines after it; empty rows are no lines. */
function readRows(rows: Element[], shared: string[]): { header: string[]; records: CsvRecord[]; headerAt: number } {
  let headerAt = -1;
  let header: string[] = [];
  const records: CsvRecord[] = [];
  rows.forEach((row, position) => {
    const line = Number(row.getAttribute("r") ?? position + 1);
    const cells: string[] = [];
    for (const [index, cell] of rowCells(row)) cells[index] = cellText(cell, shared);
    const filled = Array.from(cells, (c) => c ?? "");
    while (filled.length > 0 && filled[filled.length - 1] === "") filled.pop();
    if (filled.length === 0) return;
    if (headerAt < 0) {
      headerAt = position;
      header = filled;
    } else records.push({ line, cells: filled });
  });
  return { header, records, headerAt };
}
