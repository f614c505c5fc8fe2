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

  it("writes date and time keys as the change log does, when the fields are known", () => {
    const fields = [
      { name: "at", type: "datetime" as const },
      { name: "t", type: "time" as const },
      { name: "code", type: "string" as const },
    ];
    expect(recordKey({ pk: "at", fields }, { at: "2026-01-31T10:00:00.500000" })).toBe("2026-01-31T10:00:00.5");
    expect(recordKey({ pk: "at", fields }, { at: "2026-01-31T10:00:00Z" })).toBe("2026-01-31T10:00:00+00:00");
    expect(recordKey({ pk: "at", fields }, { at: "2026-01-31T10:00:00.000001+05:30" })).toBe(
      "2026-01-31T10:00:00.000001+05:30",
    );
    expect(recordKey({ pk: "t", fields }, { t: "10:00:00.250000+02:00" })).toBe("10:00:00.25+02");
    expect(recordKey({ pk: "t", fields }, { t: "10:00:00-05:30" })).toBe("10:00:00-05:30");
    // A text key that looks like a time stays as it is.
    expect(recordKey({ pk: "code", fields }, { code: "10:00:00.500" })).toBe("10:00:00.500");
    expect(recordKey({ pk: ["at", "code"], fields }, { at: "2026-01-31T10:00:00.100Z", code: "x" })).toBe(
      "2026-01-31T10%3A00%3A00.1%2B00%3A00,x",
    );
  });

  it("has no key for a list-only resource", () => {
    expect(recordKey({ pk: null }, { a: 1 })).toBeNull();
    expect(keyColumns({ pk: null })).toEqual([]);
  });
});
