import { describe, expect, it } from "vitest";
import { keyColumns, recordKey } from "./recordKey";

describe("recordKey", () => {
  it("writes a single key as its value", () => {
    expect(recordKey({ pk: "id" }, { id: 42 })).toBe("42");
    expect(recordKey({ pk: "code" }, { code: "50%,x" })).toBe("50%,x");
    expect(keyColumns({ pk: "id" })).toEqual(["id"]);
  });

  it("joins a composite key's values in key order, each percent-encoded", () => {
    expect(recordKey({ pk: ["left_id", "right_id"] }, { right_id: 23, left_id: 1 })).toBe("1,23");
    expect(recordKey({ pk: ["code", "day"] }, { code: "a,b%c é(!)", day: "2/3" })).toBe(
      "a%2Cb%25c%20%C3%A9%28%21%29,2%2F3",
    );
  });

  it("has no key for a list-only resource", () => {
    expect(recordKey({ pk: null }, { a: 1 })).toBeNull();
    expect(keyColumns({ pk: null })).toEqual([]);
  });
});
