import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { Conflict, FieldMeta } from "../api/types";
import { ConflictDialog } from "./ConflictDialog";

afterEach(cleanup);

const fields: FieldMeta[] = [
  { name: "title", type: "string", label: "Title", required: true, read_only: false, operators: [] },
  { name: "status", type: "string", label: "Status", required: true, read_only: false, operators: [] },
  { name: "description", type: "text", label: "Description", required: false, read_only: false, operators: [] },
];

const first: Conflict[] = [
  { field: "title", base: "Old", theirs: "Theirs 1", yours: "Mine" },
  { field: "status", base: "draft", theirs: "open", yours: "closed" },
];

const select = (label: string) => screen.getByLabelText(`Keep which value of ${label}`) as HTMLSelectElement;

describe("ConflictDialog", () => {
  it("applies the choice shown even when a live frame re-renders it mid-choice", () => {
    const onResolve = vi.fn();
    const onCancel = vi.fn();
    const { rerender } = render(<ConflictDialog conflicts={first} fields={fields} onResolve={onResolve} onCancel={onCancel} />);
    fireEvent.change(select("Title"), { target: { value: "theirs" } });
    expect(select("Title").value).toBe("theirs");

    // A presence frame or refetch: the page re-renders the dialog with equal but new props.
    rerender(<ConflictDialog conflicts={first.map((c) => ({ ...c }))} fields={[...fields]} onResolve={onResolve} onCancel={onCancel} />);
    expect(select("Title").value).toBe("theirs");

    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(onResolve).toHaveBeenCalledWith({ title: "theirs", status: "mine" });
  });

  it("keeps choices for fields still in conflict when a new conflict set arrives", () => {
    const onResolve = vi.fn();
    const { rerender } = render(<ConflictDialog conflicts={first} fields={fields} onResolve={onResolve} onCancel={() => {}} />);
    fireEvent.change(select("Title"), { target: { value: "theirs" } });
    fireEvent.change(select("Status"), { target: { value: "theirs" } });
    fireEvent.change(select("Status"), { target: { value: "mine" } });

    // The other person saved again: a new value of theirs for the title, and the description joins.
    const second: Conflict[] = [
      { field: "title", base: "Old", theirs: "Theirs 2", yours: "Mine" },
      { field: "status", base: "draft", theirs: "open", yours: "closed" },
      { field: "description", base: "", theirs: "Their text", yours: "My text" },
    ];
    rerender(<ConflictDialog conflicts={second} fields={fields} onResolve={onResolve} onCancel={() => {}} />);
    expect(screen.getByText("Theirs 2")).toBeTruthy();
    expect(select("Title").value).toBe("theirs");
    expect(select("Status").value).toBe("mine");
    expect(select("Description").value).toBe("mine");

    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(onResolve).toHaveBeenCalledTimes(1);
    expect(onResolve).toHaveBeenCalledWith({ title: "theirs", status: "mine", description: "mine" });
  });

  it("only shows the values, with Close, when the user may not resolve", () => {
    const onCancel = vi.fn();
    render(<ConflictDialog conflicts={first} fields={fields} onCancel={onCancel} />);
    expect(screen.queryByRole("combobox")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Close" }));
    expect(onCancel).toHaveBeenCalled();
  });
});
