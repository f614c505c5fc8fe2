// Row selection and bulk edit on the list page, against a fake records API and
// a fake websocket: the choice and an open bulk-edit form survive live frames;
// the request carries the versions seen when the form opened; the outcome shows
// each conflict with base / theirs / yours, settled by "keep mine" (sent again
// on the new version) or "take theirs"; a long run follows its job's frames.
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { api, ProblemError } from "../../api/client";
import type { BulkRequest, Change, FieldMeta, RecordBody, ResourceMeta } from "../../api/models";
import { SessionContext } from "../../auth";
import { live, type ServerFrame } from "../../live";
import { ResourceList } from "../../pages/ResourceList";
import { ToastProvider } from "../../toasts";
import { bulkFilter, settle, fullOutcome, patchWithout } from "./bulk";

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const ops: FieldMeta["operators"] = ["eq", "ne", "in", "isnull"];
const field = (over: Partial<FieldMeta> & Pick<FieldMeta, "name" | "type" | "label">): FieldMeta => ({
  required: false,
  read_only: false,
  operators: ops,
  ...over,
});
const courses: ResourceMeta = {
  name: "courses", label: "Course", label_plural: "Courses", pk: "id", display: "title", live: true,
  actions: ["view", "add", "change", "delete", "restore"], related: [], default_sort: ["title"], searchable: false, soft_delete: true,
  record_actions: [], preview_url: null, read_only_reason: null, derived: false, describes: null,
  fields: [
    field({ name: "id", type: "integer", label: "Id", read_only: true }),
    field({ name: "title", type: "string", label: "Title", required: true, operators: ["eq", "icontains"] }),
    field({ name: "status", type: "string", label: "Status", choices: ["draft", "open", "closed"] }),
  ],
};

let db: Map<number, RecordBody>;
const course = (id: number, title: string, status: string, version = 1): RecordBody => ({ id, title, status, _version: version, _deleted_at: null });

let listeners: Map<string, Set<(frame: ServerFrame) => void>>;
function emit(topic: string, frame: ServerFrame) {
  act(() => listeners.get(topic)?.forEach((l) => l(frame)));
}

/** Someone else's write: the row changes in the database, then its frame arrives. */
function theyWrite(id: number, values: Partial<RecordBody>) {
  const before = db.get(id)!;
  const after: RecordBody = { ...before, ...values, _version: before._version + 1 };
  db.set(id, after);
  const diff = Object.fromEntries(Object.keys(values).map((k) => [k, { old: before[k], new: after[k] }]));
  const change: Change = {
    id: 100 + after._version, at: "2026-03-01T10:00:00Z", resource: "courses", pk: String(id), op: "update",
    actor: { id: 9, name: "Rita" }, source: "api", db_role: null, request_id: null, hidden_fields: false, version: after._version, diff,
  };
  emit("r/courses", { type: "change", topic: "r/courses", cursor: `c${change.id}`, change });
}

let bulk: MockInstance<typeof api.bulk>;
beforeEach(() => {
  db = new Map([
    [1, course(1, "Algebra", "draft")],
    [2, course(2, "Biology", "open")],
    [3, course(3, "Chemistry", "draft")],
    [4, course(4, "Drawing", "open")],
  ]);
  listeners = new Map();
  vi.spyOn(live, "subscribe").mockImplementation((topic, listener) => {
    const set = listeners.get(topic) ?? new Set();
    set.add(listener);
    listeners.set(topic, set);
    return () => set.delete(listener);
  });
  vi.spyOn(live, "announce").mockImplementation(() => undefined);
  vi.spyOn(api, "describe").mockResolvedValue(courses);
  vi.spyOn(api, "viewPref").mockResolvedValue({ columns: [{ field: "title" }, { field: "status" }], sort: "", filters: [], updated_at: null });
  vi.spyOn(api, "saveViewPref").mockImplementation(async (_r, config) => ({ ...config, updated_at: "now" }));
  vi.spyOn(api, "sharedViews").mockResolvedValue({ items: [] });
  vi.spyOn(api, "counts").mockResolvedValue({ by: "status", counts: [] });
  vi.spyOn(api, "list").mockImplementation(async (_resource, query) => {
    const wanted = query["filter[status][eq]"];
    const items = [...db.values()].filter((r) => !wanted || r.status === wanted).map((r) => ({ ...r }));
    return { items, next_cursor: null, total: items.length };
  });
  bulk = vi.spyOn(api, "bulk");
});

function renderList(url = "/r/courses") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const session = { user: { id: 1, username: "editor", name: "Editor", roles: ["editor"] }, signOut: async () => undefined };
  return render(
    <QueryClientProvider client={client}>
      <SessionContext.Provider value={session}>
        <ToastProvider>
          <MemoryRouter initialEntries={[url]}>
            <Routes>
              <Route path="/r/:resource" element={<ResourceList />} />
            </Routes>
          </MemoryRouter>
        </ToastProvider>
      </SessionContext.Provider>
    </QueryClientProvider>,
  );
}

const box = (name: string) => screen.getByRole("checkbox", { name: `Choose ${name}` }) as HTMLInputElement;
const cellOf = (pk: number) => document.querySelector(`tbody tr[data-pk='${pk}']`)!;

async function chooseThree() {
  renderList();
  await screen.findByText("Algebra");
  for (const name of ["Algebra", "Biology", "Chemistry"]) fireEvent.click(box(name));
  // The bar loads with the first chosen row (a chunk of its own).
  expect((await screen.findByTestId("selected-count")).textContent).toBe("3 selected");
}

async function openEdit(status: string) {
  fireEvent.click(screen.getByRole("button", { name: "Edit fields…" }));
  const dialog = screen.getByRole("dialog", { name: "Edit 3 courses" });
  fireEvent.click(within(dialog).getByRole("checkbox", { name: "Status" }));
  fireEvent.change(within(dialog).getByLabelText("Status", { selector: "select" }), { target: { value: status } });
  return dialog;
}

describe("row selection", () => {
  it("keeps the chosen rows through a live frame and a refetch; a row that leaves the list is left out and said", async () => {
    await chooseThree();
    // Someone else edits a chosen row: it shows their value and stays chosen.
    theyWrite(2, { title: "Biology (new)" });
    await waitFor(() => expect(cellOf(2).textContent).toContain("Biology (new)"));
    expect(box("Biology (new)").checked).toBe(true);
    expect(screen.getByTestId("selected-count").textContent).toBe("3 selected");
    expect(cellOf(2).getAttribute("aria-selected")).toBe("true");
    // A refetch (a row inserted elsewhere) replaces the rows, not the choice.
    db.set(5, course(5, "Economics", "open"));
    emit("r/courses", { type: "resync", topic: "r/courses" });
    await screen.findByText("Economics");
    expect(box("Algebra").checked).toBe(true);
    expect(box("Economics").checked).toBe(false);
    // The page's checkbox is mixed, then chooses every loaded row.
    const page = screen.getByRole("checkbox", { name: "Choose all loaded courses" }) as HTMLInputElement;
    expect(page.indeterminate).toBe(true);
    fireEvent.click(page);
    expect(screen.getByTestId("selected-count").textContent).toBe("5 selected");
    fireEvent.click(page);
    expect(screen.queryByTestId("selected-count")).toBeNull();
  });

  it("starts afresh for another filter, and counts a chosen row deleted by someone else as gone", async () => {
    await chooseThree();
    db.delete(3);
    emit("r/courses", { type: "resync", topic: "r/courses" });
    await waitFor(() => expect(screen.queryByText("Chemistry")).toBeNull());
    expect(screen.getByTestId("selected-count").textContent).toBe("2 selected");
    expect(screen.getByText(/1 chosen course left this list/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Filter Status"), { target: { value: "open" } });
    await waitFor(() => expect(screen.queryByText("Algebra")).toBeNull());
    expect(screen.queryByTestId("selected-count")).toBeNull();
  });

  it("chooses all N matching: the request is the list's filter, with the versions seen", async () => {
    // Two pages' worth: the list reports more rows than it loaded.
    vi.mocked(api.list).mockImplementation(async () => ({ items: [...db.values()].map((r) => ({ ...r })), next_cursor: null, total: 40 }));
    bulk.mockResolvedValue({ result: { done: ["1", "2", "3", "4"], unchanged: [], conflicts: [], forbidden: [], not_found: [], invalid: [], not_done: [] } });
    renderList("/r/courses?filter[status][eq]=open");
    await screen.findByText("Biology");
    fireEvent.click(screen.getByRole("checkbox", { name: "Choose all loaded courses" }));
    fireEvent.click(screen.getByRole("button", { name: "Select all 40 matching" }));
    expect(screen.getByTestId("selected-count").textContent).toBe("All 40 matching");
    fireEvent.click(screen.getByRole("button", { name: "Delete…" }));
    fireEvent.click(within(screen.getByRole("alertdialog", { name: "Delete 40 courses?" })).getByRole("button", { name: "Delete" }));
    await screen.findByRole("dialog", { name: "Done" });
    expect(bulk.mock.calls[0][1]).toEqual({
      op: "delete",
      filter: { status: { eq: "open" } },
      versions: { "1": 1, "2": 1, "3": 1, "4": 1 },
    });
  });
});

describe("bulk edit", () => {
  it("keeps the form's values when a live frame arrives, and sends the versions seen when it opened", async () => {
    await chooseThree();
    const dialog = await openEdit("closed");
    // Someone else changes a chosen row's status while the form is open.
    theyWrite(2, { status: "draft" });
    await waitFor(() => expect(cellOf(2).textContent).toContain("draft"));
    expect((within(dialog).getByLabelText("Status", { selector: "select" }) as HTMLSelectElement).value).toBe("closed");
    expect((within(dialog).getByRole("checkbox", { name: "Status" }) as HTMLInputElement).checked).toBe(true);
    expect(screen.getByRole("dialog", { name: "Edit 3 courses" })).toBe(dialog);

    bulk.mockResolvedValueOnce({
      result: {
        done: ["1", "3"], unchanged: [], forbidden: [], not_found: [], invalid: [], not_done: [],
        conflicts: [{ pk: "2", version: 2, conflicts: [{ field: "status", base: "open", theirs: "draft", yours: "closed" }] }],
      },
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Apply to 3 courses" }));
    const outcome = await screen.findByRole("dialog", { name: "Some records need you" });
    expect(bulk.mock.calls[0]).toEqual([
      "courses",
      { op: "update", patch: { status: "closed" }, pks: ["1", "2", "3"], versions: { "1": 1, "2": 1, "3": 1 } },
    ]);
    const conflict = within(outcome).getByRole("article", { name: "Biology" });
    expect([...conflict.querySelectorAll("tr[data-field='status'] td")].map((td) => td.textContent)).toEqual(["open", "draft", "closed"]);
    expect(within(outcome).getByText("Done (2)")).toBeTruthy();

    // Keep mine: the row again, on the version it has now.
    bulk.mockResolvedValueOnce({ result: { done: ["2"], unchanged: [], conflicts: [], forbidden: [], not_found: [], invalid: [], not_done: [] } });
    fireEvent.click(within(conflict).getByRole("button", { name: "Keep mine" }));
    await screen.findByRole("dialog", { name: "Done" });
    expect(bulk.mock.calls[1]).toEqual(["courses", { op: "update", pks: ["2"], versions: { "2": 2 }, patch: { status: "closed" } }]);
    expect(screen.getByText("Done (3)")).toBeTruthy();
  });

  it("takes theirs: nothing sent when only conflicting fields were set; the row is listed as left to them", async () => {
    await chooseThree();
    const dialog = await openEdit("closed");
    bulk.mockResolvedValueOnce({
      result: {
        done: ["1", "3"], unchanged: [], forbidden: [], not_found: [], invalid: [], not_done: [],
        conflicts: [{ pk: "2", version: 2, conflicts: [{ field: "status", base: "open", theirs: "draft", yours: "closed" }] }],
      },
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Apply to 3 courses" }));
    const outcome = await screen.findByRole("dialog", { name: "Some records need you" });
    fireEvent.click(within(within(outcome).getByRole("article", { name: "Biology" })).getByRole("button", { name: "Take theirs" }));
    await screen.findByRole("dialog", { name: "Done" });
    expect(bulk).toHaveBeenCalledTimes(1);
    expect(screen.getByText("Left as someone else changed them (1)")).toBeTruthy();
  });

  it("follows a long run's job: a progress bar from its frames, then the outcome", async () => {
    await chooseThree();
    const dialog = await openEdit("open");
    bulk.mockResolvedValueOnce({ job: 12 });
    fireEvent.click(within(dialog).getByRole("button", { name: "Apply to 3 courses" }));
    const progress = (await screen.findByTestId("bulk-progress")) as HTMLProgressElement;
    expect(listeners.get("jobs/12")?.size).toBe(1);
    emit("jobs/12", { type: "job", topic: "jobs/12", event: "progress", done: 2, total: 3 });
    expect(progress.value).toBe(2);
    expect(progress.max).toBe(3);
    expect(screen.getByText("2 of 3 done")).toBeTruthy();
    emit("jobs/12", {
      type: "job", topic: "jobs/12", event: "result", state: "done",
      result: { done: ["1", "3"], unchanged: ["2"], conflicts: [], forbidden: [], not_found: [], invalid: [], not_done: [] },
    });
    await screen.findByRole("dialog", { name: "Done" });
    expect(screen.getByText("Unchanged (already so) (1)")).toBeTruthy();
    expect(listeners.get("jobs/12")?.size ?? 0).toBe(0);
  });
});

describe("record actions on chosen rows", () => {
  it("runs the action row by row on the versions seen, and shows done, conflicts and skipped rows", async () => {
    vi.mocked(api.describe).mockResolvedValue({ ...courses, record_actions: [{ name: "close", label: "Close course", confirm: "Students can no longer enrol." }] });
    const run = vi.spyOn(api, "runAction").mockImplementation(async (_resource, pk, _name, version) => {
      if (pk === "2" && version === 1) {
        throw new ProblemError({
          type: "about:blank", title: "Conflict", status: 409, detail: "Changed since.",
          current: course(2, "Biology", "draft", 3),
          conflicts: [{ field: "status", base: "open", theirs: "draft", yours: "closed" }],
        });
      }
      if (pk === "3") throw new ProblemError({ type: "about:blank", title: "Conflict", status: 409, detail: "Close course does not apply to this course now." });
      return { ...db.get(Number(pk))!, status: "closed", _version: version + 1 };
    });
    await chooseThree();
    fireEvent.click(screen.getByRole("button", { name: "Close course…" }));
    const confirm = screen.getByRole("alertdialog", { name: "Close course: 3 courses?" });
    expect(confirm.textContent).toContain("Students can no longer enrol.");
    fireEvent.click(within(confirm).getByRole("button", { name: "Close course" }));
    const outcome = await screen.findByRole("dialog", { name: "Some records need you" });
    expect(run.mock.calls.map((c) => [c[1], c[3]])).toEqual([["1", 1], ["2", 1], ["3", 1]]);
    expect(within(outcome).getByText("Done (1)")).toBeTruthy();
    expect(within(outcome).getByText("Skipped (1)")).toBeTruthy();
    expect(outcome.textContent).toContain("Chemistry: Close course does not apply to this course now.");
    // Keep mine: the action again, on the version the row has now.
    fireEvent.click(within(within(outcome).getByRole("article", { name: "Biology" })).getByRole("button", { name: "Keep mine" }));
    await screen.findByRole("dialog", { name: "Done" });
    expect(run.mock.calls[3]).toEqual(["courses", "2", "close", 3]);
    expect(screen.getByText("Done (2)")).toBeTruthy();
  });
});

describe("bulk helpers", () => {
  it("writes the list's filters as the bulk filter", () => {
    expect(
      bulkFilter([
        { field: "status", op: "eq", value: "open" },
        { field: "start_date", op: "gte", value: "2026-01-01" },
        { field: "start_date", op: "lt", value: "2027-01-01" },
        { field: "notes", op: "isnull", value: "true" },
        { field: "level", op: "in", value: "1,2" },
      ]),
    ).toEqual({ status: { eq: "open" }, start_date: { gte: "2026-01-01", lt: "2027-01-01" }, notes: { isnull: true }, level: { in: ["1", "2"] } });
  });

  it("settles one row's conflict by the row's new outcome", () => {
    const conflict = { pk: "2", version: 5, conflicts: [{ field: "status", base: "a", theirs: "b", yours: "c" }] };
    const start = fullOutcome({ done: ["1"], conflicts: [conflict] });
    expect(settle(start, "2", { conflicts: [{ ...conflict, version: 6 }] }).conflicts).toEqual([{ ...conflict, version: 6 }]);
    expect(settle(start, "2", { forbidden: ["2"] })).toMatchObject({ done: ["1"], forbidden: ["2"], conflicts: [] });
    expect(patchWithout({ status: "c", title: "x" }, conflict)).toEqual({ title: "x" });
  });
});

// The request type is the generated one: a compile-time check that the form sends what the server reads.
export const sample: BulkRequest = { op: "update", pks: ["1"], patch: { status: "open" }, versions: { "1": 1 } };
