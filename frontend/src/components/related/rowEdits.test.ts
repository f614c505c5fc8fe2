// The edit of one child row as a value: what a live change does to it.
import { describe, expect, it } from "vitest";
import type { Change, RecordBody } from "../../api/models";
import { editField, heardChange, keepMine, startEdit, takeTheirs } from "./rowEdits";

const row = (version: number, values: Partial<RecordBody> = {}): RecordBody => ({
  id: 11, starts_on: "2026-05-04", ends_on: "2026-05-08", _version: version, _deleted_at: null, ...values,
});
const change = (version: number, diff: Change["diff"], op: Change["op"] = "update"): Change => ({
  id: version, at: "2026-03-01T10:00:00Z", resource: "sessions", pk: "11", op, actor: { id: 9, name: "Rita" },
  source: "api", db_role: null, request_id: null, hidden_fields: false, version, diff,
});
const startsOn = { name: "starts_on", type: "date" as const };

describe("heardChange", () => {
  it("merges a change to another field: the version sent moves on, the edit stays", () => {
    const edit = editField(startEdit(row(1)), startsOn, "2026-05-05");
    const next = heardChange(edit, change(2, { ends_on: { old: "2026-05-08", new: "2026-05-09" } }), row(2, { ends_on: "2026-05-09" }));
    expect(next.edits).toEqual({ starts_on: "2026-05-05" });
    expect(next.base._version).toBe(2);
    expect(next.remote).toEqual({});
  });

  it("holds the version back when the row read already carries a later change to the edited field", () => {
    // Frame 2 changed ends_on; by the time the row is read, change 3 (to starts_on) is in it too.
    const edit = editField(startEdit(row(1)), startsOn, "2026-05-05");
    const read = row(3, { ends_on: "2026-05-09", starts_on: "2026-05-06" });
    const next = heardChange(edit, change(2, { ends_on: { old: "2026-05-08", new: "2026-05-09" } }), read);
    expect(next.remote).toEqual({ starts_on: { by: "Rita", value: "2026-05-06" } });
    expect(next.base._version).toBe(1);
    expect(next.latest._version).toBe(3);
    // Frame 3 is old news now; the choice settles the version.
    expect(heardChange(next, change(3, { starts_on: { old: "2026-05-04", new: "2026-05-06" } }), read)).toBe(next);
    expect(keepMine(next, "starts_on").base._version).toBe(3);
    const theirs = takeTheirs(next, "starts_on");
    expect(theirs.edits).toEqual({});
    expect(theirs.base._version).toBe(3);
  });

  it("takes the same value as mine as agreement", () => {
    const edit = editField(startEdit(row(1)), startsOn, "2026-05-06");
    const next = heardChange(edit, change(2, { starts_on: { old: "2026-05-04", new: "2026-05-06" } }), row(2, { starts_on: "2026-05-06" }));
    expect(next.remote).toEqual({});
    expect(next.base._version).toBe(2);
  });

  it("marks the row gone on a delete, keeping the edit", () => {
    const edit = editField(startEdit(row(1)), startsOn, "2026-05-05");
    const next = heardChange(edit, change(2, {}, "delete"), null);
    expect(next.gone).toEqual({ how: "deleted", by: "Rita", version: 2 });
    expect(next.edits).toEqual({ starts_on: "2026-05-05" });
  });
});
