// A workbook (written by openpyxl) read here: its first sheet's header and
// lines; written again with the mapped header, read back the same way.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readWorkbook } from "./xlsx";
import { readBytes } from "./importFile";

const fixture = (): ArrayBuffer => {
  const bytes = readFileSync(join(__dirname, "fixtures", "courses.xlsx"));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
};

describe("readWorkbook", () => {
  it("reads the first sheet's header and lines, by row number", async () => {
    const { table } = await readWorkbook(fixture());
    expect(table.header).toEqual(["id", "Name", "Code", "status", "Start"]);
    expect(table.records.map((r) => r.line)).toEqual([2, 3, 4]);
    expect(table.records[0].cells.slice(0, 4)).toEqual(["1", "Sea Ice", "sea-ice", "open"]);
    expect(table.records[2].cells).toEqual(["", 'Tundra, "north"', "tundra", "draft"]);
  });

  it("writes the mapped header, without the columns left out, keeping the other cells", async () => {
    const book = await readWorkbook(fixture());
    const blob = book.rewrite(["title", "short_name", "status"], [1, 2, 3]);
    const again = await readWorkbook(await readBytes(blob));
    expect(again.table.header).toEqual(["title", "short_name", "status"]);
    expect(again.table.records).toEqual([
      { line: 2, cells: ["Sea Ice", "sea-ice", "open"] },
      { line: 3, cells: ["Glaciers", "glaciers", "maybe"] },
      { line: 4, cells: ['Tundra, "north"', "tundra", "draft"] },
    ]);
    // The same mapping, the same bytes (the apply sends the previewed file).
    const twice = new Uint8Array(await readBytes(book.rewrite(["title", "short_name", "status"], [1, 2, 3])));
    expect(twice).toEqual(new Uint8Array(await readBytes(blob)));
  });

  it("refuses what is not a workbook", async () => {
    await expect(readWorkbook(new TextEncoder().encode("id,title\n1,x\n").buffer as ArrayBuffer)).rejects.toThrow(/not an Excel workbook/);
  });
});
