// The inputs of adopted column types (FieldInput → TypedInputs), as a user drives them.
import { afterEach, describe, expect, it, vi } from "vitest";
import { useState } from "react";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { FieldMeta, FieldValue, RecordBody } from "../api/models";
import { editProblems, Unparsed } from "../fieldValues";
import { FieldInput } from "./FieldInput";

afterEach(cleanup);

const meta = (over: Partial<FieldMeta> & Pick<FieldMeta, "name" | "type">): FieldMeta => ({
  label: over.name[0].toUpperCase() + over.name.slice(1),
  required: false,
  read_only: false,
  operators: [],
  ...over,
});

const status = meta({ name: "status", type: "string", choices: ["new", "in progress", "done"], required: true });
const tags = meta({ name: "tags", type: "array", items: "string" });
const scores = meta({ name: "scores", type: "array", items: "integer" });
const attrs = meta({ name: "attrs", type: "json" });
const price = meta({ name: "price", type: "decimal" });
const attachment = meta({ name: "attachment", type: "binary" });
const spent = meta({ name: "spent", type: "duration" });
const ref = meta({ name: "ref", type: "uuid" });
const logged = meta({ name: "logged", type: "datetime", timezone: false });
const dueAt = meta({ name: "due", type: "time" });

const record = (fields: Record<string, FieldValue>): RecordBody => ({ _version: 1, _deleted_at: null, ...fields });

/**
 * The record page's pattern in small: the field shows the user's edit when
 * there is one, the record's value otherwise; a live change re-renders with a
 * new record while the edit stays.
 */
function Page({ field, current, onEdit }: { field: FieldMeta; current: RecordBody; onEdit?: (v: FieldValue) => void }) {
  const [edit, setEdit] = useState<{ value: FieldValue } | null>(null);
  return (
    <FieldInput
      field={field}
      value={edit ? edit.value : current[field.name]}
      readOnly={false}
      onChange={(value) => {
        setEdit({ value });
        onEdit?.(value);
      }}
    />
  );
}

describe("choices", () => {
  it("is a controlled select of the choices", async () => {
    const onChange = vi.fn();
    render(<FieldInput field={status} value="new" onChange={onChange} readOnly={false} />);
    const select = screen.getByLabelText(/Status/) as HTMLSelectElement;
    expect(select.tagName).toBe("SELECT");
    expect(select.value).toBe("new");
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["new", "in progress", "done"]);
    await userEvent.selectOptions(select, "in progress");
    expect(onChange).toHaveBeenCalledWith("in progress");
    // Controlled: the shown value is the prop until the page passes the edit back.
    expect(select.value).toBe("new");
  });

  it("keeps a stored value that is not a choice visible instead of showing the first choice", () => {
    render(<FieldInput field={status} value="archived" onChange={() => {}} readOnly={false} />);
    const select = screen.getByLabelText(/Status/) as HTMLSelectElement;
    expect(select.value).toBe("archived");
    expect(select.selectedOptions[0].textContent).toMatch(/archived.*not a choice/);
  });

  it("shows an empty required enum as empty, not as its first choice", () => {
    render(<FieldInput field={status} value={null} onChange={() => {}} readOnly={false} />);
    expect((screen.getByLabelText(/Status/) as HTMLSelectElement).value).toBe("");
  });
});

describe("array token input", () => {
  it("adds a token on Enter and on a comma, and Backspace in the empty box removes the last", async () => {
    const onEdit = vi.fn();
    render(<Page field={tags} current={record({ tags: ["alpha"] })} onEdit={onEdit} />);
    const box = screen.getByLabelText("Tags");
    await userEvent.type(box, "beta{Enter}");
    expect(onEdit).toHaveBeenLastCalledWith(["alpha", "beta"]);
    expect((box as HTMLInputElement).value).toBe("");
    await userEvent.type(box, "gamma,");
    expect(onEdit).toHaveBeenLastCalledWith(["alpha", "beta", "gamma"]);
    const list = screen.getByRole("list", { name: "Tags elements" });
    expect(within(list).getAllByRole("listitem").map((li) => li.firstChild?.textContent)).toEqual(["alpha", "beta", "gamma"]);
    await userEvent.type(box, "{Backspace}");
    expect(onEdit).toHaveBeenLastCalledWith(["alpha", "beta"]);
    await userEvent.click(screen.getByRole("button", { name: "Remove alpha" }));
    expect(onEdit).toHaveBeenLastCalledWith(["beta"]);
  });

  it("adds each element of a pasted comma list", async () => {
    const onEdit = vi.fn();
    render(<Page field={tags} current={record({ tags: [] })} onEdit={onEdit} />);
    fireEvent.change(screen.getByLabelText("Tags"), { target: { value: "a, b,c" } });
    expect(onEdit).toHaveBeenLastCalledWith(["a", "b"]);
    expect((screen.getByLabelText("Tags") as HTMLInputElement).value).toBe("c");
  });

  it("types integer elements as numbers and refuses what is not one, keeping it in the box", async () => {
    const onEdit = vi.fn();
    render(<Page field={scores} current={record({ scores: [1] })} onEdit={onEdit} />);
    const box = screen.getByLabelText("Scores");
    await userEvent.type(box, "2{Enter}");
    expect(onEdit).toHaveBeenLastCalledWith([1, 2]);
    await userEvent.type(box, "2.5{Enter}");
    expect(onEdit).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId("token-problem-scores").textContent).toMatch(/2\.5.*not a whole number/);
    expect((box as HTMLInputElement).value).toBe("2.5");
  });

  it("a live frame arriving mid-edit does not reset the token input", async () => {
    const { rerender } = render(<Page field={tags} current={record({ tags: ["alpha"] })} />);
    const box = screen.getByLabelText("Tags") as HTMLInputElement;
    await userEvent.type(box, "beta{Enter}");
    await userEvent.type(box, "gam"); // half typed
    // Someone else saved the record: the page re-renders with their copy.
    rerender(<Page field={tags} current={record({ _version: 2, tags: ["theirs"] })} />);
    const list = screen.getByRole("list", { name: "Tags elements" });
    expect(within(list).getAllByRole("listitem").map((li) => li.firstChild?.textContent)).toEqual(["alpha", "beta"]);
    expect((screen.getByLabelText("Tags") as HTMLInputElement).value).toBe("gam");
    expect(screen.getByLabelText("Tags")).toBe(box); // the same element: focus and caret stay
  });

  it("follows a live change while it holds no edit", () => {
    const { rerender } = render(<Page field={tags} current={record({ tags: ["alpha"] })} />);
    rerender(<Page field={tags} current={record({ _version: 2, tags: ["theirs"] })} />);
    expect(screen.getByRole("button", { name: "Remove theirs" })).toBeTruthy();
  });
});

describe("JSON code box", () => {
  it("is a monospace text box of the value, sending parsed JSON", () => {
    const onEdit = vi.fn();
    render(<Page field={attrs} current={record({ attrs: { a: [1, 2] } })} onEdit={onEdit} />);
    const box = screen.getByLabelText("Attrs") as HTMLTextAreaElement;
    expect(box.tagName).toBe("TEXTAREA");
    expect(box.className).toContain("code");
    expect(JSON.parse(box.value)).toEqual({ a: [1, 2] });
    fireEvent.change(box, { target: { value: '{"a": [1, 2, 3], "b": "x"}' } });
    expect(onEdit).toHaveBeenLastCalledWith({ a: [1, 2, 3], b: "x" });
    expect(box.value).toBe('{"a": [1, 2, 3], "b": "x"}'); // the user's formatting stays
  });

  it("shows an inline message for JSON that does not parse, and the save is blocked", () => {
    const onEdit = vi.fn();
    render(<Page field={attrs} current={record({ attrs: null })} onEdit={onEdit} />);
    const box = screen.getByLabelText("Attrs");
    fireEvent.change(box, { target: { value: '{"a": ' } });
    const sent = onEdit.mock.calls.at(-1)?.[0] as unknown;
    expect(sent).toBeInstanceOf(Unparsed);
    expect(screen.getByText(/Not valid JSON/)).toBeTruthy();
    expect(box.getAttribute("aria-invalid")).toBe("true");
    expect(editProblems([attrs], { attrs: sent as FieldValue })).toEqual([{ field: "attrs", message: expect.stringMatching(/Not valid JSON/) as unknown }]);
  });

  it("a live frame arriving mid-edit does not reset the code box, valid or not", () => {
    const { rerender } = render(<Page field={attrs} current={record({ attrs: { a: 1 } })} />);
    const box = screen.getByLabelText("Attrs") as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: '{"a": 2, ' } }); // half typed, not JSON yet
    rerender(<Page field={attrs} current={record({ _version: 2, attrs: { a: 99 } })} />);
    expect(box.value).toBe('{"a": 2, ');
    fireEvent.change(box, { target: { value: '{"a": 2}' } });
    rerender(<Page field={attrs} current={record({ _version: 3, attrs: { a: 100 } })} />);
    expect(box.value).toBe('{"a": 2}');
  });

  it("shows a new value from outside while it holds no edit", () => {
    const { rerender } = render(<Page field={attrs} current={record({ attrs: { a: 1 } })} />);
    rerender(<Page field={attrs} current={record({ _version: 2, attrs: { a: 99 } })} />);
    expect(JSON.parse((screen.getByLabelText("Attrs") as HTMLTextAreaElement).value)).toEqual({ a: 99 });
  });
});

/** A Blob's bytes (jsdom's Blob has no arrayBuffer()). */
function bytesOf(blob: Blob): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer));
    reader.onerror = () => reject(reader.error ?? new Error("unreadable"));
    reader.readAsArrayBuffer(blob);
  });
}

describe("binary", () => {
  it("shows the size and downloads the decoded bytes as a Blob", async () => {
    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((blob: Blob) => {
      blobs.push(blob);
      return "blob:test";
    });
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    render(<FieldInput field={attachment} value="AAECAw==" onChange={() => {}} readOnly={false} />);
    expect(screen.getByTestId("size-attachment").textContent).toBe("4 bytes");
    await userEvent.click(screen.getByRole("button", { name: "Download" }));
    expect(click).toHaveBeenCalledTimes(1);
    expect(Array.from(await bytesOf(blobs[0]))).toEqual([0, 1, 2, 3]);
  });

  it("uploads a file as base64", async () => {
    const onChange = vi.fn();
    render(<FieldInput field={attachment} value={null} onChange={onChange} readOnly={false} />);
    const file = new File([new Uint8Array([0xff, 0x00, 0x41])], "x.bin");
    await userEvent.upload(screen.getByLabelText("Attachment"), file);
    await waitFor(() => expect(onChange).toHaveBeenCalledWith("/wBB"));
  });
});

describe("decimal", () => {
  it("keeps the typed text exactly, never a JS number", () => {
    const onChange = vi.fn();
    render(<FieldInput field={price} value="12.50" onChange={onChange} readOnly={false} />);
    const input = screen.getByLabelText("Price") as HTMLInputElement;
    expect(input.type).toBe("text");
    expect(input.value).toBe("12.50"); // not "12.5"
    fireEvent.change(input, { target: { value: "0.10000000000000000001" } });
    expect(onChange).toHaveBeenLastCalledWith("0.10000000000000000001");
  });

  it("says what is wrong with a value that is not a decimal", () => {
    render(<FieldInput field={price} value="12.5.0" onChange={() => {}} readOnly={false} />);
    expect(screen.getByText(/exact decimal number/)).toBeTruthy();
    expect(editProblems([price], { price: "12.5.0" })).toHaveLength(1);
    expect(editProblems([price], { price: "-1.5e3" })).toEqual([]);
  });
});

describe("duration, uuid, time and naive timestamps", () => {
  it("shows a duration as text with an ISO 8601 hint and checks it", () => {
    render(<FieldInput field={spent} value="P1DT2H30M" onChange={() => {}} readOnly={false} />);
    expect((screen.getByLabelText("Spent") as HTMLInputElement).value).toBe("P1DT2H30M");
    expect(screen.getByText(/ISO 8601 duration/)).toBeTruthy();
    expect(editProblems([spent], { spent: "1 day" })).toHaveLength(1);
    expect(editProblems([spent], { spent: "PT0.5S" })).toEqual([]);
  });

  it("validates a uuid with a pattern", () => {
    const { rerender } = render(<FieldInput field={ref} value="123e4567-e89b-12d3-a456-426614174000" onChange={() => {}} readOnly={false} />);
    expect((screen.getByLabelText("Ref") as HTMLInputElement).checkValidity()).toBe(true);
    rerender(<FieldInput field={ref} value="not-a-uuid" onChange={() => {}} readOnly={false} />);
    expect((screen.getByLabelText("Ref") as HTMLInputElement).checkValidity()).toBe(false);
    expect(screen.getByText(/Enter a UUID/)).toBeTruthy();
  });

  it("edits a timestamp without time zone as wall-clock time, with no offset conversion", () => {
    const onChange = vi.fn();
    render(<FieldInput field={logged} value="2026-11-30T17:00:00" onChange={onChange} readOnly={false} />);
    const input = screen.getByLabelText("Logged") as HTMLInputElement;
    expect(input.type).toBe("datetime-local");
    expect(input.value).toBe("2026-11-30T17:00"); // not shifted to Paris time
    fireEvent.change(input, { target: { value: "2026-12-01T09:15" } });
    expect(onChange).toHaveBeenCalledWith("2026-12-01T09:15:00"); // no offset added
  });

  it("edits a time with its seconds", () => {
    const onChange = vi.fn();
    render(<FieldInput field={dueAt} value="09:30:00" onChange={onChange} readOnly={false} />);
    const input = screen.getByLabelText("Due") as HTMLInputElement;
    expect(input.type).toBe("time");
    fireEvent.change(input, { target: { value: "10:45" } });
    expect(onChange).toHaveBeenCalledWith("10:45:00");
  });
});
