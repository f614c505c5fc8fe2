// A course's overview on its page: the row read once, then moved by its
// live view's change frames, version by version; a gap reads it again.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { Change, RecordBody, ResourceMeta } from "../../api/models";
import type { ServerFrame } from "../../live";

const listeners = new Map<string, (frame: ServerFrame) => void>();
const get = vi.fn<(resource: string, pk: string) => Promise<RecordBody>>();

vi.mock("../../live", () => ({
  live: {
    subscribe: (topic: string, listener: (frame: ServerFrame) => void) => {
      listeners.set(topic, listener);
      return () => listeners.delete(topic);
    },
  },
}));
vi.mock("../../api/client", () => ({ api: { get: (resource: string, pk: string) => get(resource, pk) } }));

const { applyChange, RecordOverviews } = await import("./RecordOverview");

afterEach(() => {
  cleanup();
  listeners.clear();
  get.mockReset();
});

const overviewMeta: ResourceMeta = {
  name: "course_overview",
  label: "Course overview",
  label_plural: "Course overviews",
  pk: "id",
  display: "title",
  live: true,
  derived: true,
  describes: "courses",
  actions: ["view"],
  fields: [
    { name: "id", type: "integer", label: "Course", required: false, read_only: true, operators: [] },
    { name: "title", type: "string", label: "Title", required: false, read_only: true, operators: [] },
    { name: "sessions", type: "integer", label: "Sessions", required: false, read_only: true, operators: [] },
    { name: "pending_drafts", type: "integer", label: "Pending drafts", required: false, read_only: true, operators: [] },
  ],
  related: [],
  default_sort: ["title"],
  searchable: true,
  soft_delete: true,
  record_actions: [],
  preview_url: null,
  read_only_reason: null,
};

const row = (over: Partial<RecordBody> = {}): RecordBody => ({
  id: 7,
  title: "Databases",
  sessions: 2,
  pending_drafts: 0,
  _version: 3,
  _deleted_at: null,
  ...over,
});

const change = (version: number, diff: Change["diff"], op: Change["op"] = "update"): Change => ({
  id: 100 + version,
  at: "2026-12-01T10:00:00Z",
  resource: "course_overview",
  pk: "7",
  op,
  actor: null,
  db_role: null,
  request_id: null,
  hidden_fields: false,
  source: "view",
  version,
  diff,
});

describe("applyChange", () => {
  it("applies the very next version's diff", () => {
    expect(applyChange(row(), change(4, { sessions: { old: 2, new: 3 } }))).toEqual(row({ sessions: 3, _version: 4 }));
  });
  it("keeps a row already read after the change", () => {
    const current = row({ sessions: 3, _version: 4 });
    expect(applyChange(current, change(4, { sessions: { old: 2, new: 3 } }))).toBe(current);
  });
  it("asks for a fresh read when a version is missing", () => {
    expect(applyChange(row(), change(5, { sessions: { old: 3, new: 4 } }))).toBeNull();
  });
  it("marks a row that left the view", () => {
    const gone = applyChange(row(), change(4, { deleted_at: { old: null, new: "2026-12-01T10:00:00Z" } }, "delete"));
    expect(gone?._deleted_at).toBe("2026-12-01T10:00:00Z");
  });
});

describe("RecordOverviews", () => {
  function show(resources: ResourceMeta[]) {
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    return render(
      <QueryClientProvider client={client}>
        <RecordOverviews resource="courses" pk="7" resources={resources} />
      </QueryClientProvider>,
    );
  }

  it("shows the views that describe the record, and moves their figures live", async () => {
    get.mockResolvedValueOnce(row());
    show([overviewMeta, { ...overviewMeta, name: "other", describes: "sessions" }]);
    expect(await screen.findByRole("heading", { name: "Course overview" })).toBeTruthy();
    expect(get).toHaveBeenCalledTimes(1);
    expect(get).toHaveBeenCalledWith("course_overview", "7");
    const sessions = () => screen.getByText("Sessions").closest("div")!;
    expect(sessions().textContent).toContain("2");
    await waitFor(() => expect(listeners.has("r/course_overview/7")).toBe(true));

    listeners.get("r/course_overview/7")!({
      type: "change",
      topic: "r/course_overview/7",
      cursor: "c1",
      change: change(4, { sessions: { old: 2, new: 3 } }),
    });
    await waitFor(() => expect(sessions().textContent).toContain("3"));
    expect(sessions().className).toBe("flash");
    // The title names the record already; the key is the record's own.
    expect(screen.queryByText("Title")).toBeNull();
    expect(screen.queryByText("Course")).toBeNull();
  });

  it("reads the row again after a gap in its versions", async () => {
    get.mockResolvedValueOnce(row()).mockResolvedValueOnce(row({ sessions: 5, _version: 6 }));
    show([overviewMeta]);
    await waitFor(() => expect(listeners.has("r/course_overview/7")).toBe(true));
    listeners.get("r/course_overview/7")!({
      type: "change",
      topic: "r/course_overview/7",
      cursor: "c2",
      change: change(6, { sessions: { old: 4, new: 5 } }),
    });
    await waitFor(() => expect(get).toHaveBeenCalledTimes(2));
    await waitFor(() => expect(screen.getByText("Sessions").closest("div")!.textContent).toContain("5"));
  });

  it("shows nothing when the row cannot be read (out of the reader's rows)", async () => {
    get.mockRejectedValueOnce(new Error("404"));
    const { container } = show([overviewMeta]);
    await waitFor(() => expect(get).toHaveBeenCalled());
    expect(container.innerHTML).toBe("");
    expect(listeners.size).toBe(0);
  });
});
