// Runs in Europe/Paris (vitest.config.ts): +01:00 in winter, +02:00 in summer.
import { describe, expect, it } from "vitest";
import { fromLocalInput, offsetOf, sameInstant, sameValue, toLocalInput } from "./datetime";

describe("timestamptz in datetime-local inputs", () => {
  it("shows a UTC value as wall-clock time here", () => {
    expect(toLocalInput("2026-11-30T17:00:00+00:00")).toBe("2026-11-30T18:00");
    expect(toLocalInput("2026-07-01T08:30:00Z")).toBe("2026-07-01T10:30");
    expect(toLocalInput("2026-07-01T08:30:15.250+00:00")).toBe("2026-07-01T10:30:15.250");
  });

  it("shows nothing for no value or one it cannot read", () => {
    expect(toLocalInput(null)).toBe("");
    expect(toLocalInput("")).toBe("");
    expect(toLocalInput("not a date")).toBe("");
  });

  it("sends typed wall-clock time with this zone's offset for that date", () => {
    expect(fromLocalInput("2026-11-30T18:00")).toBe("2026-11-30T18:00:00+01:00");
    expect(fromLocalInput("2026-07-01T10:30")).toBe("2026-07-01T10:30:00+02:00");
    expect(fromLocalInput("2026-07-01T10:30:15")).toBe("2026-07-01T10:30:15+02:00");
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("2026-07-01")).toBeNull();
  });

  it("round-trips to the same instant", () => {
    for (const value of ["2026-11-30T17:00:00+00:00", "2026-03-29T00:59:00Z", "2026-10-25T00:30:00Z"]) {
      const sent = fromLocalInput(toLocalInput(value));
      expect(sent).not.toBeNull();
      expect(Date.parse(sent!)).toBe(Date.parse(value));
      expect(sameInstant(sent, value)).toBe(true);
    }
  });

  it("moves a time skipped by the spring-forward jump to one that exists", () => {
    // 02:30 does not exist in Paris on 2026-03-29; the text and the offset must agree.
    const sent = fromLocalInput("2026-03-29T02:30");
    expect(sent).toBe("2026-03-29T03:30:00+02:00");
  });

  it("reads a wall-clock time repeated by the autumn fall-back as its first occurrence", () => {
    // 02:30 happens twice in Paris on 2026-10-25 (at +02:00, then at +01:00); the input cannot tell them apart.
    expect(toLocalInput("2026-10-25T01:30:00Z")).toBe("2026-10-25T02:30");
    expect(fromLocalInput("2026-10-25T02:30")).toBe("2026-10-25T02:30:00+02:00");
  });

  it("treats the stored instant typed back as no edit", () => {
    expect(sameValue("2026-11-30T18:00:00+01:00", "2026-11-30T17:00:00+00:00", "datetime")).toBe(true);
    expect(sameValue("2026-11-30T18:01:00+01:00", "2026-11-30T17:00:00+00:00", "datetime")).toBe(false);
    expect(sameValue("2026-11-30T18:00:00+01:00", "2026-11-30T17:00:00+00:00", "string")).toBe(false);
    expect(sameValue(null, null, "datetime")).toBe(true);
  });

  it("writes offsets as ±HH:MM", () => {
    expect(offsetOf(new Date("2026-01-15T12:00:00Z"))).toBe("+01:00");
    expect(offsetOf(new Date("2026-06-15T12:00:00Z"))).toBe("+02:00");
  });
});

describe("sameValue for arrays and JSON", () => {
  it("treats an edit undone by hand as no edit", () => {
    expect(sameValue(["a", "b"], ["a", "b"], "array")).toBe(true);
    expect(sameValue({ a: [1] }, { a: [1] }, "json")).toBe(true);
    expect(sameValue(["a"], ["a", "b"], "array")).toBe(false);
  });
});
