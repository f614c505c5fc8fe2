import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import type { Conflict, FieldMeta } from "../api/models";
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

  it("keeps the focus inside, with the choices, and closes on Escape", async () => {
    const user = userEvent.setup();
    const onResolve = vi.fn();
    const onCancel = vi.fn();
    render(<ConflictDialog conflicts={first} fields={fields} onResolve={onResolve} onCancel={onCancel} />);
    const dialog = screen.getByRole("dialog", { name: "Someone else changed these fields" });
    // The focus starts on the first choice.
    expect(document.activeElement).toBe(select("Title"));
    await user.selectOptions(select("Title"), "theirs");

    // Tab past the last control comes back to the first; Shift+Tab from the first goes to the last.
    const apply = screen.getByRole("button", { name: "Apply" });
    apply.focus();
    await user.tab();
    expect(document.activeElement).toBe(select("Title"));
    await user.tab({ shift: true });
    expect(document.activeElement).toBe(apply);
    expect(dialog.contains(document.activeElement)).toBe(true);
    expect(select("Title").value).toBe("theirs");

    await user.keyboard("{Escape}");
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(onResolve).not.toHaveBeenCalled();
  });

  it("gives the focus back to what opened it", async () => {
    const user = userEvent.setup();
    function Page() {
      const [open, setOpen] = useState(false);
      return (
        <>
          <button type="button" onClick={() => setOpen(true)}>
            Save
          </button>
          {open && <ConflictDialog conflicts={first} fields={fields} onResolve={() => {}} onCancel={() => setOpen(false)} />}
        </>
      );
    }
    render(<Page />);
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(document.activeElement).toBe(select("Title"));
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Save" }));
  });
});
