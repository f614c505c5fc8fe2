import { describe, expect, it } from "vitest";
import type { Conflict, RecordBody } from "../../api/models";
import { mergeConflicts } from "./useRecordLive";

const record = (fields: Record<string, string>, version: number): RecordBody =>
  ({ id: 1, _version: version, _deleted_at: null, ...fields }) as unknown as RecordBody;

describe("mergeConflicts: someone saves again while the conflict dialog is open", () => {
  const open: Conflict[] = [{ field: "title", base: "Old", theirs: "Theirs 1", yours: "Mine" }];
  const before = record({ title: "Theirs 1", status: "draft", description: "Old text" }, 2);

  it("updates theirs for a field already in conflict, keeping its place", () => {
    const fresh = record({ title: "Theirs 2", status: "draft", description: "Old text" }, 3);
    expect(mergeConflicts(open, ["title"], fresh, before, { title: "Mine" })).toEqual([
      { field: "title", base: "Old", theirs: "Theirs 2", yours: "Mine" },
    ]);
  });

  it("adds a field of mine they now changed too", () => {
    const fresh = record({ title: "Theirs 1", status: "draft", description: "Their text" }, 3);
    const mine = { title: "Mine", description: "My text" };
    expect(mergeConflicts(open, ["description"], fresh, before, mine)).toEqual([
      ...open,
      { field: "description", base: "Old text", theirs: "Their text", yours: "My text" },
    ]);
  });

  it("ignores their change to a field I did not edit", () => {
    const fresh = record({ title: "Theirs 1", status: "open", description: "Old text" }, 3);
    expect(mergeConflicts(open, ["status"], fresh, before, { title: "Mine" })).toEqual(open);
  });
});
