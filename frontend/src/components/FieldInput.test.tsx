// Runs in Europe/Paris (vitest.config.ts).
import { afterEach, describe, expect, it, vi } from "vitest";
import { useState } from "react";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { FieldMeta } from "../api/models";
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

const shortName: FieldMeta = {
  name: "short_name", type: "string", label: "Short name", required: true, read_only: false, operators: [], max_length: 20,
};

describe("FieldInput with a max_length", () => {
  it("keeps a pasted text longer than the limit whole and says by how much", () => {
    const seen: unknown[] = [];
    function Form() {
      const [value, setValue] = useState<string | null>(null);
      return (
        <FieldInput
          field={shortName}
          value={value}
          readOnly={false}
          onChange={(v) => {
            seen.push(v);
            setValue(v as string | null);
          }}
        />
      );
    }
    render(<Form />);
    const input = screen.getByLabelText(/Short name/) as HTMLInputElement;
    // No maxLength: the browser would cut a paste to 20 without a word.
    expect(input.maxLength).toBe(-1);
    const pasted = "introduction-to-sea-ice-physics"; // 31 characters
    fireEvent.change(input, { target: { value: pasted } });
    expect(input.value).toBe(pasted);
    expect(seen.at(-1)).toBe(pasted);
    expect(input).toHaveProperty("ariaInvalid", "true");
    expect(screen.getByText("At most 20 characters: this is 31, 11 too many (nothing was cut).")).toBeTruthy();
  });

  it("counts characters as the server does: an emoji is one", () => {
    render(<FieldInput field={shortName} value={"😀".repeat(20)} onChange={() => {}} readOnly={false} />);
    expect(screen.queryByText(/too many/)).toBeNull();
  });
});
