import { describe, expect, it } from "vitest";
import type { RelationOption, RelationTarget } from "../relations";
import { labelAfter } from "./useRelations";

const TARGET: RelationTarget = {
  resource: "courses",
  key: "id",
  display: "title",
  softDelete: true,
  search: { kind: "q" },
  keyIn: true,
  numericKey: true,
};
const OPTION: RelationOption = { value: 7, id: "7", label: "Algebra", deleted: false };

describe("a cached name after a change to the record it names", () => {
  it("takes the new display value", () => {
    expect(labelAfter(TARGET, OPTION, { op: "update", diff: { title: { old: "Algebra", new: "Topology" } } })).toEqual({
      ...OPTION,
      label: "Topology",
    });
    expect(labelAfter(TARGET, OPTION, { op: "update", diff: { title: { old: "Algebra", new: "" } } })?.label).toBe("#7");
  });

  it("is kept when other fields change, and follows delete and restore", () => {
    expect(labelAfter(TARGET, OPTION, { op: "update", diff: { status: { old: "open", new: "closed" } } })).toEqual(OPTION);
    const deleted = labelAfter(TARGET, OPTION, { op: "delete", diff: {} });
    expect(deleted).toEqual({ ...OPTION, deleted: true });
    expect(labelAfter(TARGET, deleted!, { op: "restore", diff: {} })).toEqual(OPTION);
  });

  it("is read again when it may name another record now", () => {
    expect(labelAfter(TARGET, OPTION, { op: "purge", diff: {} })).toBeUndefined();
    expect(labelAfter(TARGET, null, { op: "insert", diff: { title: { old: null, new: "New" } } })).toBeUndefined();
    expect(labelAfter(TARGET, OPTION, { op: "update", diff: { id: { old: 7, new: 8 } } })).toBeUndefined();
  });
});
