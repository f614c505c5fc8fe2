// Column-mapping suggestions: exact name, then label, then without case,
// spaces, underscores or hyphens; each field once; a corrected file keeps the
// person's choices.
import { describe, expect, it } from "vitest";
import type { FieldMeta, ResourceMeta } from "../../api/models";
import { carryMapping, duplicateTargets, importableFields, isIdentity, suggestMapping } from "./mapping";
import { parseCsv, writeCsv } from "./csv";
import { exportUrl } from "./exportUrl";

const field = (name: string, label: string, over: Partial<FieldMeta> = {}): FieldMeta => ({
  name, label, type: "string", required: false, read_only: false, operators: ["eq"], ...over,
});
const fields = [
  field("id", "Id", { read_only: true, type: "integer" }),
  field("title", "Title"),
  field("short_name", "Short name"),
  field("start_date", "Starts on", { type: "date" }),
  field("status", "Status"),
  field("internal_notes", "Internal notes"),
];

describe("suggestMapping", () => {
  it("matches by name, by label, then without case and spacing", () => {
    expect(suggestMapping(["id", "Title", "SHORT NAME", "starts on", "Colour"], fields)).toEqual({
      id: "id",
      Title: "title",
      "SHORT NAME": "short_name",
      "starts on": "start_date",
      Colour: "",
    });
    expect(suggestMapping(["Start-Date", "internal notes"], fields)).toEqual({ "Start-Date": "start_date", "internal notes": "internal_notes" });
    // A loose match by name comes before a loose match by label.
    expect(suggestMapping(["starts on", "START_DATE"], fields)).toEqual({ "starts on": "", START_DATE: "start_date" });
  });

  it("gives a field to the exact match before a looser one, and to one column only", () => {
    // "status " (loose) comes first in the file, "status" (exact) wins the field.
    expect(suggestMapping(["status ", "status", "Status"], fields)).toEqual({ "status ": "", status: "status", Status: "" });
    expect(duplicateTargets({ a: "title", b: "title", c: "", d: "" })).toEqual(["title"]);
  });

  it("offers the writable fields and the key", () => {
    const meta: Pick<ResourceMeta, "pk" | "fields"> = { pk: "id", fields: [...fields, field("created_at", "Created", { read_only: true })] };
    expect(importableFields(meta).map((f) => f.name)).toEqual(["id", "title", "short_name", "start_date", "status", "internal_notes"]);
  });

  it("keeps the person's choices for a corrected file, suggesting for its new columns", () => {
    const chosen = { Name: "title", Code: "short_name", Notes: "" };
    expect(carryMapping(chosen, ["Name", "Code", "Notes", "status", "Title"], fields)).toEqual({
      Name: "title",
      Code: "short_name",
      Notes: "",
      status: "status",
      // title is taken by Name: not suggested twice.
      Title: "",
    });
  });

  it("sends the file as it is only when every header is its field's name", () => {
    expect(isIdentity(["id", "title"], { id: "id", title: "title" })).toBe(true);
    expect(isIdentity(["id", "Title"], { id: "id", Title: "title" })).toBe(false);
    expect(isIdentity(["id", "x"], { id: "id", x: "" })).toBe(false);
  });
});

describe("csv", () => {
  it("reads quoted cells, line breaks inside them, a BOM-less header and each record's line", () => {
    const table = parseCsv('a,b\r\n1,"x, ""y"""\r\n\r\n2,"two\nlines"\n3,\n');
    expect(table.header).toEqual(["a", "b"]);
    expect(table.records).toEqual([
      { line: 2, cells: ["1", 'x, "y"'] },
      { line: 4, cells: ["2", "two\nlines"] },
      { line: 6, cells: ["3", ""] },
    ]);
  });

  it("writes the mapped header and columns, each record on its original line", () => {
    const table = parseCsv('Name,Skip,Code\r\nA,1,a\r\n\r\n"B\nb",2,"b,c"\r\nC,3,=x\r\n');
    const text = writeCsv(table, ["short_name", "title"], [2, 0]);
    expect(text).toBe('short_name,title\r\na,A\r\n\r\n"b,c","B\nb"\r\n=x,C\r\n');
    expect(parseCsv(text).records.map((r) => r.line)).toEqual(table.records.map((r) => r.line));
  });
});

describe("exportUrl", () => {
  it("follows the list: filters, search, deleted view, sort and columns in order", () => {
    const url = exportUrl(
      "courses",
      "csv",
      { "filter[status][eq]": "open", "filter[start_date][gte]": "2026-06-01", q: "ice", deleted: "only" },
      "-start_date,title",
      ["title", "status", "start_date"],
    );
    expect(url).toBe(
      "/api/r/courses.csv?q=ice&deleted=only&sort=-start_date%2Ctitle" +
        "&filter[status][eq]=open&filter[start_date][gte]=2026-06-01&columns=title%2Cstatus%2Cstart_date",
    );
    expect(exportUrl("courses", "xlsx", {}, "", [])).toBe("/api/r/courses.xlsx");
  });
});
