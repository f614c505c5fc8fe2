import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { ProblemError } from "../api/client";
import type { FieldMeta } from "../api/models";
import { FormErrors, NotSaved, reasonOf, splitErrors } from "./FormProblems";

afterEach(cleanup);

const fields: FieldMeta[] = [
  { name: "title", type: "string", label: "Title", required: true, read_only: false, operators: [] },
  { name: "start_date", type: "date", label: "Start date", required: false, read_only: false, operators: [] },
];

describe("splitErrors", () => {
  it("puts errors on shown fields by field and the rest in the banner", () => {
    const { byField, general } = splitErrors(
      [
        { field: "title", message: "Required." },
        { field: "_", message: "Violates check constraint courses_dates_check." },
        { field: "internal_notes", message: "Too long." },
      ],
      fields,
    );
    expect(byField).toEqual({ title: "Required." });
    expect(general).toEqual(["Violates check constraint courses_dates_check.", "internal_notes: Too long."]);
  });

  it("strips a prefix (a draft's data.field)", () => {
    expect(splitErrors([{ field: "data.title", message: "Too long." }], fields, "data.").byField).toEqual({ title: "Too long." });
  });
});

describe("reasonOf", () => {
  it("says the server was not reached for a network failure", () => {
    expect(reasonOf(new TypeError("Failed to fetch"))).toMatch(/could not be reached/);
  });
  it("uses the problem's detail", () => {
    const e = new ProblemError({ type: "about:blank", title: "Bad Gateway", status: 502, detail: "Upstream is down." });
    expect(reasonOf(e)).toBe("Upstream is down.");
  });
});

describe("FormErrors and NotSaved", () => {
  it("announces field-less errors in a banner", () => {
    render(<FormErrors messages={["The start date must come before the end date."]} />);
    expect(screen.getByRole("alert").textContent).toContain("The start date must come before the end date.");
  });

  it("renders nothing without messages", () => {
    const { container } = render(<FormErrors messages={[]} />);
    expect(container.innerHTML).toBe("");
  });

  it("says not saved, why, and retries", () => {
    const onRetry = vi.fn();
    render(<NotSaved reason="The server could not be reached." busy={false} onRetry={onRetry} />);
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("Not saved.");
    expect(alert.textContent).toContain("The server could not be reached.");
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(onRetry).toHaveBeenCalledTimes(1);
  });
});
