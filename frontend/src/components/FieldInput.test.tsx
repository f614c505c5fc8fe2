// Runs in Europe/Paris (vitest.config.ts).
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { FieldMeta } from "../api/types";
import { FieldInput } from "./FieldInput";

afterEach(cleanup);

const opens: FieldMeta = { name: "opens_at", type: "datetime", label: "Opens at", required: true, read_only: false, operators: [] };

describe("FieldInput for a timestamptz", () => {
  it("shows the stored instant in the browser's time zone, not blank", () => {
    render(<FieldInput field={opens} value="2026-11-30T17:00:00+00:00" onChange={() => {}} readOnly={false} />);
    const input = screen.getByLabelText(/Opens at/) as HTMLInputElement;
    expect(input.type).toBe("datetime-local");
    expect(input.value).toBe("2026-11-30T18:00");
    // A required datetime that is shown is valid: it does not block the form.
    expect(input.checkValidity()).toBe(true);
  });

  it("sends what is typed with the offset", () => {
    const onChange = vi.fn();
    render(<FieldInput field={opens} value="2026-11-30T17:00:00+00:00" onChange={onChange} readOnly={false} />);
    fireEvent.change(screen.getByLabelText(/Opens at/), { target: { value: "2026-12-01T09:15" } });
    expect(onChange).toHaveBeenCalledWith("2026-12-01T09:15:00+01:00");
  });

  it("keeps seconds valid (no step mismatch) when the value has them", () => {
    render(<FieldInput field={opens} value="2026-11-30T17:00:30+00:00" onChange={() => {}} readOnly={false} />);
    const input = screen.getByLabelText(/Opens at/) as HTMLInputElement;
    expect(input.value).toMatch(/^2026-11-30T18:00:30/);
    expect(input.step).toBe("any");
  });

  it("shows a value the browser cannot read as text rather than blank", () => {
    render(<FieldInput field={opens} value="infinity" onChange={() => {}} readOnly={false} />);
    expect((screen.getByLabelText(/Opens at/) as HTMLInputElement).value).toBe("infinity");
  });
});
