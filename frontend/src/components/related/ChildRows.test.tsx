// The child-row table of a record page (a course's sessions) against a fake
// records API and a fake websocket: rows edited in place keep what was typed
// through live frames, refetches, someone else's change of the same field and
// the row's deletion; a new row is sent with its parent set.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter } from "react-router-dom";
import { api, ProblemError } from "../../api/client";
import type { Change, FieldMeta, Meta, RecordBody, ResourceMeta } from "../../api/models";
import { SessionContext } from "../../auth";
import { live, type ServerFrame } from "../../live";
import { ChildRows } from "./ChildRows";

afterEach(cleanup);

const keyOps: FieldMeta["operators"] = ["eq", "ne", "lt", "lte", "gt", "gte", "in", "isnull"];
const field = (over: Partial<FieldMeta> & Pick<FieldMeta, "name" | "type" | "label">): FieldMeta => ({
  required: false,
  read_only: false,
  operators: keyOps,
  ...over,
});
const sessions: ResourceMeta = {
  name: "sessions", label: "Session", label_plural: "Sessions", pk: "id", display: "id", live: true,
  actions: ["view", "add", "change", "delete", "restore"], related: [], default_sort: ["starts_on"], searchable: false, soft_delete: true, record_actions: [], preview_url: null, read_only_reason: null, derived: false, describes: null,
  fields: [
    field({ name: "id", type: "integer", label: "Id", read_only: true }),
    field({ name: "course_id", type: "integer", label: "Course", required: true, relation: { resource: "courses", display: "title" } }),
    field({ name: "starts_on", type: "date", label: "Starts on", required: true }),
    field({ name: "ends_on", type: "date", label: "Ends on", required: true }),
    field({ name: "enrollment_open", type: "boolean", label: "Enrollment open" }),
  ],
};
const meta: Meta = { resources: [sessions], workflows: [] };
const link = { resource: "sessions", field: "course_id", label: "Sessions" };
const parent = { resource: "courses", label: "Course", key: 7, keyText: "7" };

/** The sessions table as the server holds it. */
let db: Map<number, RecordBody>;
const session = (id: number, starts: string, ends: string, version = 1): RecordBody => ({
  id, course_id: 7, starts_on: starts, ends_on: ends, enrollment_open: false, _version: version, _deleted_at: null,
});

/** Another person's write: the row changes in the database, then its frame arrives. */
function theyWrite(id: number, values: Partial<RecordBody>, op: Change["op"] = "update") {
  const before = db.get(id)!;
  const after = { ...before, ...values, _version: before._version + 1 } as RecordBody;
  db.set(id, after);
  const diff = Object.fromEntries(
    Object.keys(values)
      .filter((k) => !k.startsWith("_"))
      .map((k) => [k, { old: before[k], new: after[k] }]),
  );
  const change: Change = {
    id: 100 + after._version, at: "2026-03-01T10:00:00Z", resource: "sessions", pk: String(id), op,
    actor: { id: 9, name: "Rita" }, source: "api", db_role: null, request_id: null, hidden_fields: false, version: after._version, diff,
  };
  emit("r/sessions", { type: "change", topic: "r/sessions", cursor: `c${change.id}`, change });
}

let listeners: Map<string, Set<(frame: ServerFrame) => void>>;
function emit(topic: string, frame: ServerFrame) {
  act(() => listeners.get(topic)?.forEach((l) => l(frame)));
}

beforeEach(() => {
  db = new Map([
    [11, session(11, "2026-05-04", "2026-05-08")],
    [12, session(12, "2026-09-07", "2026-09-11")],
  ]);
  listeners = new Map();
  vi.spyOn(live, "subscribe").mockImplementation((topic, listener) => {
    const set = listeners.get(topic) ?? new Set();
    set.add(listener);
    listeners.set(topic, set);
    return () => set.delete(listener);
  });
  vi.spyOn(live, "announce").mockImplementation(() => undefined);
  vi.spyOn(api, "meta").mockResolvedValue(meta);
  vi.spyOn(api, "describe").mockResolvedValue(sessions);
  vi.spyOn(api, "list").mockImplementation((resource, query) => {
    expect(resource).toBe("sessions");
    expect(query["filter[course_id][eq]"]).toBe("7");
    const items = [...db.values()].filter((r) => r._deleted_at === null && r.course_id === 7);
    return Promise.resolve({ items, next_cursor: null, total: items.length });
  });
  vi.spyOn(api, "get").mockImplementation((_resource, pk) => {
    const row = db.get(Number(pk));
    return row ? Promise.resolve(row) : Promise.reject(new ProblemError({ type: "", title: "Not found", status: 404, detail: "No session." }));
  });
});

function renderPanel() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const session = { user: { id: 1, username: "editor", name: "Editor", roles: ["editor"] }, signOut: async () => undefined };
  return render(
    <QueryClientProvider client={client}>
      <SessionContext.Provider value={session}>
        <MemoryRouter>
          <ChildRows link={link} parent={parent} frozen={false} />
        </MemoryRouter>
      </SessionContext.Provider>
    </QueryClientProvider>,
  );
}

async function openEditor(name: string) {
  fireEvent.click(await screen.findByRole("button", { name: `Edit session ${name}` }));
  return screen.getByRole("form", { name: `Edit session ${name}` });
}

const input = (form: HTMLElement, label: string) => within(form).getByLabelText(new RegExp(`^${label}`)) as HTMLInputElement;

describe("ChildRows", () => {
  it("lists the rows pointing at the record, without the pointing field", async () => {
    renderPanel();
    const table = await screen.findByRole("table");
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    expect(within(table).getByRole("link", { name: "#11" })).toBeTruthy();
    expect(within(table).queryByRole("columnheader", { name: "Course" })).toBeNull();
    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Sessions (2)");
  });

  it("keeps an edit while a live frame changes another field of the row, and merges against the new version", async () => {
    const patch = vi.spyOn(api, "patch").mockImplementation((_r, pk, changes) => {
      const row = { ...db.get(Number(pk))!, ...changes, _version: db.get(Number(pk))!._version + 1 } as RecordBody;
      db.set(Number(pk), row);
      return Promise.resolve(row);
    });
    renderPanel();
    const form = await openEditor("#11");
    fireEvent.change(input(form, "Starts on"), { target: { value: "2026-05-05" } });

    theyWrite(11, { ends_on: "2026-05-09" });
    // The other field follows the database; the typed one stays as typed.
    await waitFor(() => expect(input(form, "Ends on").value).toBe("2026-05-09"));
    expect(input(form, "Starts on").value).toBe("2026-05-05");
    expect(within(form).getByText("version 2")).toBeTruthy();
    // The rows were read again for the frame; the form is the same one, its edit intact.
    await waitFor(() => expect(api.list).toHaveBeenCalledTimes(2));
    expect(screen.getByRole("form", { name: "Edit session #11" })).toBe(form);

    fireEvent.click(within(form).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(patch).toHaveBeenCalledWith("sessions", "11", { starts_on: "2026-05-05" }, 2));
    await waitFor(() => expect(screen.queryByRole("form", { name: "Edit session #11" })).toBeNull());
  });

  it("shows someone else's change of a field being edited, keeps mine, and sends the version I had seen", async () => {
    const patch = vi.spyOn(api, "patch").mockImplementation(() =>
      Promise.reject(
        new ProblemError({
          type: "", title: "Conflict", status: 409, detail: "conflict",
          current: db.get(11), conflicts: [{ field: "starts_on", base: "2026-05-04", theirs: "2026-05-06", yours: "2026-05-05" }],
        }),
      ),
    );
    renderPanel();
    const form = await openEditor("#11");
    fireEvent.change(input(form, "Starts on"), { target: { value: "2026-05-05" } });

    theyWrite(11, { starts_on: "2026-05-06" });
    const note = await within(form).findByTestId("remote-starts_on");
    expect(note.textContent).toMatch(/Rita changed this to “2026-05-06”/);
    expect(input(form, "Starts on").value).toBe("2026-05-05");

    // Saved before choosing: sent against version 1, so the server decides (and shows the three values).
    fireEvent.click(within(form).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(patch).toHaveBeenCalledWith("sessions", "11", { starts_on: "2026-05-05" }, 1));
    expect(await screen.findByRole("dialog", { name: "Someone else changed these fields" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(input(form, "Starts on").value).toBe("2026-05-05");

    // Keep mine: the change has been seen, the next save goes against version 2.
    fireEvent.click(within(form).getByRole("button", { name: "Keep mine" }));
    patch.mockClear();
    fireEvent.click(within(form).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(patch).toHaveBeenCalledWith("sessions", "11", { starts_on: "2026-05-05" }, 2));
  });

  it("says a row deleted under the edit was deleted, and keeps the typed values", async () => {
    renderPanel();
    const form = await openEditor("#12");
    fireEvent.change(input(form, "Ends on"), { target: { value: "2026-09-12" } });

    theyWrite(12, { _deleted_at: "2026-03-01T10:00:00Z" }, "delete");
    expect((await within(form).findByRole("alert")).textContent).toMatch(/Rita deleted this session while you were editing it/);
    // The row is gone from the rows read again, yet its form stays with the edit.
    await waitFor(() => expect(api.list).toHaveBeenCalledTimes(2));
    expect(screen.getByRole("form", { name: "Edit session #12" })).toBe(form);
    expect(input(form, "Ends on").value).toBe("2026-09-12");
    expect((within(form).getByRole("button", { name: "Save" }) as HTMLButtonElement).disabled).toBe(true);
    expect(within(form).getByRole("button", { name: "Restore it and keep editing" })).toBeTruthy();
  });

  it("keeps the edits and shows the server's message by the field when a save is refused", async () => {
    vi.spyOn(api, "patch").mockRejectedValue(
      new ProblemError({
        type: "", title: "Validation failed", status: 422, detail: "ends_on: Ends before it starts.",
        errors: [{ field: "ends_on", message: "A session ends after it starts." }],
      }),
    );
    renderPanel();
    const form = await openEditor("#11");
    fireEvent.change(input(form, "Ends on"), { target: { value: "2026-05-01" } });
    fireEvent.click(within(form).getByRole("button", { name: "Save" }));
    expect(await within(form).findByText("A session ends after it starts.")).toBeTruthy();
    expect(input(form, "Ends on").value).toBe("2026-05-01");
  });

  it("adds a row with the field pointing at the record set, and shows it", async () => {
    const create = vi.spyOn(api, "create").mockImplementation((_r, values) => {
      const row = { ...session(13, String(values.starts_on), String(values.ends_on)), ...values } as RecordBody;
      db.set(13, row);
      return Promise.resolve(row);
    });
    renderPanel();
    fireEvent.click(await screen.findByRole("button", { name: "Add session" }));
    const form = screen.getByRole("form", { name: "New session" });
    expect(within(form).queryByLabelText(/^Course/)).toBeNull();
    fireEvent.change(input(form, "Starts on"), { target: { value: "2026-11-02" } });
    fireEvent.change(input(form, "Ends on"), { target: { value: "2026-11-06" } });
    fireEvent.click(within(form).getByRole("button", { name: "Add session" }));
    await waitFor(() =>
      expect(create).toHaveBeenCalledWith("sessions", { starts_on: "2026-11-02", ends_on: "2026-11-06", course_id: 7 }),
    );
    expect(await screen.findByRole("link", { name: "#13" })).toBeTruthy();
    expect(screen.queryByRole("form", { name: "New session" })).toBeNull();
  });

  it("shows a row added elsewhere once its frame arrives", async () => {
    renderPanel();
    await screen.findByRole("link", { name: "#11" });
    db.set(14, session(14, "2027-01-04", "2027-01-08"));
    const change: Change = {
      id: 300, at: "2026-03-01T10:00:00Z", resource: "sessions", pk: "14", op: "insert", actor: { id: 9, name: "Rita" },
      source: "api", db_role: null, request_id: null, hidden_fields: false, version: 1, diff: { course_id: { old: null, new: 7 }, starts_on: { old: null, new: "2027-01-04" } },
    };
    emit("r/sessions", { type: "change", topic: "r/sessions", cursor: "c300", change });
    const row = (await screen.findByRole("link", { name: "#14" })).closest("tr")!;
    expect(row.className).toMatch(/flash/);
    // Another course's new session is not this course's: no refetch, however long one waits.
    const calls = vi.mocked(api.list).mock.calls.length;
    vi.useFakeTimers();
    try {
      emit("r/sessions", { type: "change", topic: "r/sessions", cursor: "c301", change: { ...change, id: 301, pk: "15", diff: { course_id: { old: null, new: 8 } } } });
      await vi.advanceTimersByTimeAsync(5_000);
      expect(vi.mocked(api.list).mock.calls.length).toBe(calls);
    } finally {
      vi.useRealTimers();
    }
  });
});
