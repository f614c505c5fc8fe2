import { describe, expect, it } from "vitest";
import { MAX_WIDTH, MIN_WIDTH, moveColumn, resizeColumn } from "./columnLayout";

const COLUMNS = [{ field: "title" }, { field: "status", format: "badge" }, { field: "start_date", width: 120 }];

describe("moving and resizing columns", () => {
  it("moves a column to where another is, either way", () => {
    expect(moveColumn(COLUMNS, "start_date", "title").map((c) => c.field)).toEqual(["start_date", "title", "status"]);
    expect(moveColumn(COLUMNS, "title", "start_date").map((c) => c.field)).toEqual(["status", "start_date", "title"]);
    // Formats and widths travel with their column.
    expect(moveColumn(COLUMNS, "status", "title")[0]).toEqual({ field: "status", format: "badge" });
  });

  it("ignores a move onto itself or an unknown column", () => {
    expect(moveColumn(COLUMNS, "title", "title")).toBe(COLUMNS);
    expect(moveColumn(COLUMNS, "nope", "title")).toBe(COLUMNS);
  });

  it("sets a width within bounds, whole pixels", () => {
    expect(resizeColumn(COLUMNS, "title", 200.6)[0]).toEqual({ field: "title", width: 201 });
    expect(resizeColumn(COLUMNS, "title", 3)[0].width).toBe(MIN_WIDTH);
    expect(resizeColumn(COLUMNS, "title", 10_000)[0].width).toBe(MAX_WIDTH);
    expect(resizeColumn(COLUMNS, "title", 200)[2]).toBe(COLUMNS[2]);
  });
});
