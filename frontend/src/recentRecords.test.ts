import { afterEach, describe, expect, it } from "vitest";
import { RECENT_MAX, readRecent, rememberRecord, withRecent } from "./recentRecords";

afterEach(() => window.localStorage.clear());

describe("recently opened records", () => {
  it("keeps the newest first, each record once, at most RECENT_MAX", () => {
    rememberRecord(1, { resource: "courses", pk: "1", name: "Algebra" }, new Date("2026-11-30T10:00:00Z"));
    rememberRecord(1, { resource: "courses", pk: "2", name: "Botany" }, new Date("2026-11-30T10:01:00Z"));
    rememberRecord(1, { resource: "courses", pk: "1", name: "Algebra I" }, new Date("2026-11-30T10:02:00Z"));
    expect(readRecent(1).map((r) => [r.pk, r.name])).toEqual([
      ["1", "Algebra I"],
      ["2", "Botany"],
    ]);
    let list = readRecent(1);
    for (let i = 0; i < 20; i++) list = withRecent(list, { resource: "sessions", pk: String(i), name: `S${i}`, at: "" });
    expect(list).toHaveLength(RECENT_MAX);
    expect(list[0].pk).toBe("19");
  });

  it("is per user", () => {
    rememberRecord(1, { resource: "courses", pk: "1", name: "Algebra" });
    expect(readRecent(2)).toEqual([]);
  });

  it("reads anything unexpected in storage as nothing", () => {
    window.localStorage.setItem("collabadmin:recent:1", "{not json");
    expect(readRecent(1)).toEqual([]);
    window.localStorage.setItem("collabadmin:recent:1", JSON.stringify([{ resource: 1 }, null, "x", { resource: "courses", pk: "3", name: "C", at: "2026-11-30T00:00:00Z" }]));
    expect(readRecent(1).map((r) => r.pk)).toEqual(["3"]);
  });
});
