// The record page's action buttons: what is offered, what is asked, what is sent.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { api, ProblemError } from "../api/client";
import type { FieldMeta, RecordActionMeta, RecordBody } from "../api/models";
import { RecordActions } from "./RecordActions";

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
const wrap = (children: ReactNode) => <QueryClientProvider client={client}>{children}</QueryClientProvider>;

const fields: FieldMeta[] = [
  { name: "title", type: "string", label: "Title", required: true, read_only: false, operators: ["eq"] },
  { name: "status", type: "string", label: "Status", required: false, read_only: false, operators: ["eq"], choices: ["draft", "open", "closed"] },
];
const OPEN: RecordActionMeta = { name: "open-enrollment", label: "Open enrollment", confirm: "Open enrollment on the next session?", applies: true };
const CLOSE: RecordActionMeta = { name: "close", label: "Close course", confirm: "Close this course?", applies: false };
const NOTE: RecordActionMeta = { name: "note", label: "Note it", applies: true };

function course(version: number, status = "draft"): RecordBody {
  return { _version: version, _deleted_at: null, id: 5, title: "Intro", status };
}

function actionsOf(record: RecordBody, actions: RecordActionMeta[], handlers: Partial<Record<"onDone" | "onCurrent", () => void>> = {}) {
  return wrap(
    <RecordActions
      resource="courses"
      pk="5"
      actions={actions}
      record={record}
      fields={fields}
      onDone={handlers.onDone ?? (() => {})}
      onCurrent={handlers.onCurrent ?? (() => {})}
    />,
  );
}

describe("RecordActions", () => {
  it("offers a button only for the actions that apply now", () => {
    render(actionsOf(course(3), [OPEN, CLOSE, NOTE]));
    const group = screen.getByRole("group", { name: "Actions" });
    expect(within(group).getAllByRole("button").map((b) => b.textContent)).toEqual(["Open enrollment", "Note it"]);
  });

  it("asks first, and Cancel sends nothing", async () => {
    const run = vi.spyOn(api, "runAction");
    render(actionsOf(course(3), [OPEN]));
    await userEvent.click(screen.getByRole("button", { name: "Open enrollment" }));
    const dialog = screen.getByRole("alertdialog");
    expect(within(dialog).getByText("Open enrollment on the next session?")).toBeTruthy();
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(run).not.toHaveBeenCalled();
  });

  it("keeps the question open through a live change and sends the version it was asked on", async () => {
    const saved = course(5, "open");
    const run = vi.spyOn(api, "runAction").mockResolvedValue(saved);
    const onDone = vi.fn();
    const { rerender } = render(actionsOf(course(3), [OPEN], { onDone }));
    await userEvent.click(screen.getByRole("button", { name: "Open enrollment" }));
    // Someone saves the course while the question is open; the refetched actions
    // no longer list it as applying. The question stays, about what was seen.
    rerender(actionsOf(course(4), [{ ...OPEN, applies: false }], { onDone }));
    const dialog = screen.getByRole("alertdialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Open enrollment" }));
    expect(run).toHaveBeenCalledWith("courses", "5", "open-enrollment", 3);
    expect(onDone).toHaveBeenCalledWith(saved, OPEN);
    expect(screen.queryByRole("alertdialog")).toBeNull();
  });

  it("runs an action without a confirmation at once, on the version shown", async () => {
    const run = vi.spyOn(api, "runAction").mockResolvedValue(course(8));
    render(actionsOf(course(7), [NOTE]));
    await userEvent.click(screen.getByRole("button", { name: "Note it" }));
    expect(run).toHaveBeenCalledWith("courses", "5", "note", 7);
  });

  it("shows what changed since the person looked, and the record as it is now", async () => {
    const now = course(4, "closed");
    vi.spyOn(api, "runAction").mockRejectedValue(
      new ProblemError({
        type: "urn:collabadmin:problem:conflict",
        title: "Conflict",
        status: 409,
        detail: "Someone else changed the same fields of this record since your version.",
        current: now,
        conflicts: [{ field: "status", base: "draft", theirs: "closed", yours: "draft" }],
      }),
    );
    const onCurrent = vi.fn();
    render(actionsOf(course(3), [OPEN], { onCurrent }));
    await userEvent.click(screen.getByRole("button", { name: "Open enrollment" }));
    await userEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Open enrollment" }));
    const refused = await screen.findByRole("alertdialog", { name: "“Open enrollment” did not go through" });
    const row = within(refused).getByRole("row", { name: /Status/ });
    expect(within(row).getAllByRole("cell").map((c) => c.textContent)).toEqual(["draft", "closed"]);
    expect(within(refused).getByText("Nothing was changed. The record now shows its current values.")).toBeTruthy();
    expect(onCurrent).toHaveBeenCalledWith(now);
  });

  it("says why an action no longer applies", async () => {
    vi.spyOn(api, "runAction").mockRejectedValue(
      new ProblemError({
        type: "urn:collabadmin:problem:not-applicable",
        title: "Action does not apply",
        status: 409,
        detail: "Enrollment cannot be opened: the course is closed.",
        current: course(3),
      }),
    );
    render(actionsOf(course(3), [NOTE]));
    await userEvent.click(screen.getByRole("button", { name: "Note it" }));
    expect((await screen.findByTestId("action-refusal")).textContent).toBe("Enrollment cannot be opened: the course is closed.");
    expect(screen.queryByTestId("action-conflicts")).toBeNull();
  });
});
