// A CSV file read in the browser for the import wizard: its header row (to
// map to fields), its cells by line (to show next to the server's preview),
// and written again with the header the mapping chose. RFC 4180: fields
// separated by commas, quoted with `"` (a quote inside doubled), records
// ended by CRLF, LF or CR; a UTF-8 byte order mark is dropped.

/** One record of the file: its cells and the line of the file it starts on (the header is line 1). */
export interface CsvRecord {
  line: number;
  cells: string[];
}

export interface CsvTable {
  header: string[];
  records: CsvRecord[];
}

/** The file's text, or null when it is not UTF-8 (the server then says why it refuses it). */
export function decodeUtf8(bytes: ArrayBuffer): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The records of `text`, each with the line it starts on. An unbalanced quote
 * ends the file (the server's preview reports it with its line). A last empty
 * line (the file's final newline) is no record.
 */
export function parseCsv(text: string): CsvTable {
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let wasQuoted = false; // the current cell was quoted: "" is then a value, not a blank line
  let line = 1;
  let start = 1;
  let fresh = true; // nothing read yet of the current record
  const endRecord = () => {
    cells.push(cell);
    // A blank line is no record (as for the server's reader).
    if (cells.length > 1 || cells[0] !== "" || wasQuoted) records.push({ line: start, cells });
    cells = [];
    cell = "";
    wasQuoted = false;
    fresh = true;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (fresh) {
      start = line;
      fresh = false;
    }
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n" || (c === "\r" && text[i + 1] !== "\n")) line++;
        cell += c;
      }
    } else if (c === '"' && cell === "") {
      quoted = true;
      wasQuoted = true;
    } else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else if (c === "\r" || c === "\n") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      line++;
    } else {
      cell += c;
    }
  }
  if (!fresh) endRecord();
  const [head, ...rest] = records;
  return { header: head?.cells ?? [], records: rest };
}

const NEEDS_QUOTES = /[",\r\n]/;

function quote(cell: string): string {
  return NEEDS_QUOTES.test(cell) || cell !== cell.trim() ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/**
 * The file again with `header` as its first row and, of every record, the
 * cells of the columns `keep` lists (indexes of the original columns, in the
 * new order). Each record stays on the line it was on (a cell's own line
 * breaks are kept inside its quotes), so the server's line numbers are the
 * original file's.
 */
export function writeCsv(table: CsvTable, header: string[], keep: number[]): string {
  const rows = [header.map(quote).join(",")];
  let line = 1;
  for (const record of table.records) {
    // Blank lines the reader skipped keep their place.
    while (line + 1 < record.line) {
      rows.push("");
      line++;
    }
    const row = keep.map((i) => quote(record.cells[i] ?? "")).join(",");
    rows.push(row);
    line = record.line + record.cells.reduce((n, c) => n + (c.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
  }
  return rows.join("\r\n") + "\r\n";
}
