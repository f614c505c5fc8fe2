// Lists over adopted column types: filters limited to each field's operators,
// cells per type, and a refused saved filter that can be cleared.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { ProblemError } from "../../api/client";
import type { FieldMeta } from "../../api/models";
import { formatCell } from "../../format";
import { FilterControl } from "./FilterControl";
import { ListProblem } from "./ListProblem";

afterEach(cleanup);

const field = (over: Partial<FieldMeta> & Pick<FieldMeta, "name" | "type" | "operators">): FieldMeta => ({
  label: over.name,
  required: false,
  read_only: false,
  ...over,
});

describe("FilterControl offers only the field's operators", () => {
  it("filters an array by has and overlaps", () => {
    const onChange = vi.fn();
    const tags = field({ name: "tags", type: "array", items: "string", operators: ["has", "overlaps", "isnull"] });
    render(<FilterControl field={tags} filters={[]} onChange={onChange} />);
    fireEvent.change(screen.getByLabelText("tags has"), { target: { value: "red" } });
    fireEvent.keyDown(screen.getByLabelText("tags has"), { key: "Enter" });
    expect(onChange).toHaveBeenLastCalledWith([{ field: "tags", op: "has", value: "red" }]);
    fireEvent.change(screen.getByLabelText("tags has any of"), { target: { value: "a,b" } });
    fireEvent.keyDown(screen.getByLabelText("tags has any of"), { key: "Enter" });
    expect(onChange).toHaveBeenLastCalledWith([{ field: "tags", op: "overlaps", value: "a,b" }]);
  });

  it("offers nothing for a field without operators it can use (json)", () => {
    const { container } = render(
      <FilterControl field={field({ name: "attrs", type: "json", operators: ["isnull"] })} filters={[]} onChange={() => {}} />,
    );
    expect(container.innerHTML).toBe("");
  });

  it("uses equality where contains is not offered (a uuid)", () => {
    const onChange = vi.fn();
    render(<FilterControl field={field({ name: "ref", type: "uuid", operators: ["eq", "ne", "in", "isnull"] })} filters={[]} onChange={onChange} />);
    const box = screen.getByLabelText("Filter ref");
    fireEvent.change(box, { target: { value: "123e4567-e89b-12d3-a456-426614174000" } });
    fireEvent.keyDown(box, { key: "Enter" });
    expect(onChange).toHaveBeenLastCalledWith([{ field: "ref", op: "eq", value: "123e4567-e89b-12d3-a456-426614174000" }]);
  });

  it("offers no choice select on an enum without eq", () => {
    render(
      <FilterControl field={field({ name: "status", type: "string", choices: ["a"], operators: ["isnull"] })} filters={[]} onChange={() => {}} />,
    );
    expect(screen.queryByRole("combobox")).toBeNull();
  });

  it("filters a naive timestamp by its own days (no Z)", () => {
    const onChange = vi.fn();
    const logged = field({ name: "logged", type: "datetime", timezone: false, operators: ["eq", "lt", "lte", "gt", "gte"] });
    render(<FilterControl field={logged} filters={[]} onChange={onChange} />);
    fireEvent.change(screen.getByLabelText("logged from"), { target: { value: "2026-11-30" } });
    fireEvent.keyDown(screen.getByLabelText("logged from"), { key: "Enter" });
    expect(onChange).toHaveBeenLastCalledWith([{ field: "logged", op: "gte", value: "2026-11-30T00:00:00" }]);
  });
});

describe("list cells", () => {
  it("shows arrays as chips, JSON abbreviated, binary as its size and decimals as they are", () => {
    expect(formatCell(["a", "b"], field({ name: "tags", type: "array", operators: [] })).chips).toEqual(["a", "b"]);
    const long = { text: "x".repeat(100) };
    const json = formatCell(long, field({ name: "attrs", type: "json", operators: [] }));
    expect(json.text.length).toBeLessThan(70);
    expect(json.text.endsWith("…")).toBe(true);
    expect(json.title).toBe(JSON.stringify(long));
    expect(formatCell("AAECAw==", field({ name: "blob", type: "binary", operators: [] })).text).toBe("4 bytes");
    expect(formatCell("12.50", field({ name: "price", type: "decimal", operators: [] })).text).toBe("12.50");
    expect(formatCell("98765432109876543210.01", field({ name: "big", type: "decimal", operators: [] })).text).toBe("98765432109876543210.01");
  });
});

describe("a list the server refuses", () => {
  const refused = new ProblemError({ type: "about:blank", title: "Bad Request", status: 400, detail: "filter[tags][contains]: not an operator of tags" });

  it("shows the error and offers to clear the saved filters", () => {
    const onClear = vi.fn();
    render(<ListProblem error={refused} filtered onClear={onClear} />);
    expect(screen.getByRole("alert").textContent).toContain("not an operator of tags");
    fireEvent.click(screen.getByRole("button", { name: "Clear filters and sort" }));
    expect(onClear).toHaveBeenCalledTimes(1);
  });

  it("offers nothing to clear when nothing is filtered or the failure is the server's", () => {
    const { rerender } = render(<ListProblem error={refused} filtered={false} onClear={() => {}} />);
    expect(screen.queryByRole("button")).toBeNull();
    rerender(<ListProblem error={new ProblemError({ type: "about:blank", title: "Error", status: 503, detail: "Try later" })} filtered onClear={() => {}} />);
    expect(screen.queryByRole("button")).toBeNull();
  });
});
