// A many-to-many link as chips (a course's instructors through
// course_instructors) against a fake records API and websocket.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter } from "react-router-dom";
import { api, ProblemError } from "../../api/client";
import type { FieldMeta, Meta, RecordBody, ResourceMeta } from "../../api/models";
import { live, type ServerFrame } from "../../live";
import { LinkChips } from "./LinkChips";

afterEach(cleanup);

const ops: FieldMeta["operators"] = ["eq", "in", "isnull"];
const courseInstructors: ResourceMeta = {
  name: "course_instructors", label: "Course instructor", label_plural: "Course instructors", pk: "id", display: "id", live: true,
  actions: ["view", "add", "delete", "restore"], related: [], default_sort: [], searchable: false, soft_delete: true, record_actions: [], preview_url: null, read_only_reason: null, derived: false, describes: null,
  fields: [
    { name: "id", type: "integer", label: "Id", required: false, read_only: true, operators: ops },
    { name: "course_id", type: "integer", label: "Course", required: true, read_only: false, operators: ops, relation: { resource: "courses", display: "title" } },
    { name: "instructor_id", type: "integer", label: "Instructor", required: true, read_only: false, operators: ops, relation: { resource: "instructors", display: "name" } },
  ],
};
const instructors: ResourceMeta = {
  name: "instructors", label: "Instructor", label_plural: "Instructors", pk: "id", display: "name", live: true,
  actions: ["view"], related: [], default_sort: ["name"], searchable: true, soft_delete: true, record_actions: [], preview_url: null, read_only_reason: null, derived: false, describes: null,
  fields: [
    { name: "id", type: "integer", label: "Id", required: false, read_only: true, operators: ops },
    { name: "name", type: "text", label: "Name", required: true, read_only: false, operators: ["icontains"] },
  ],
};
const meta: Meta = { resources: [courseInstructors, instructors], workflows: [] };
const link = { resource: "instructors", field: "course_id", label: "Instructors", through: { resource: "course_instructors", field: "instructor_id" } };
const parent = { resource: "courses", label: "Course", key: 7, keyText: "7" };

const people: RecordBody[] = [
  { id: 1, name: "Ada Lovelace", _version: 1, _deleted_at: null },
  { id: 2, name: "Grace Hopper", _version: 1, _deleted_at: null },
  { id: 3, name: "Katherine Johnson", _version: 1, _deleted_at: null },
];
let links: RecordBody[];
let listeners: Map<string, Set<(frame: ServerFrame) => void>>;

beforeEach(() => {
  links = [
    { id: 50, course_id: 7, instructor_id: 1, _version: 1, _deleted_at: null },
    { id: 51, course_id: 7, instructor_id: 2, _version: 1, _deleted_at: null },
  ];
  listeners = new Map();
  vi.spyOn(live, "subscribe").mockImplementation((topic, listener) => {
    const set = listeners.get(topic) ?? new Set();
    set.add(listener);
    listeners.set(topic, set);
    return () => set.delete(listener);
  });
  vi.spyOn(api, "meta").mockResolvedValue(meta);
  vi.spyOn(api, "describe").mockResolvedValue(courseInstructors);
  vi.spyOn(api, "list").mockImplementation((resource, query) => {
    if (resource === "course_instructors") {
      const items = links.filter((l) => l._deleted_at === null && String(l.course_id) === query["filter[course_id][eq]"]);
      return Promise.resolve({ items, next_cursor: null, total: items.length });
    }
    let items = people;
    if (query["filter[id][in]"]) items = items.filter((p) => query["filter[id][in]"].split(",").includes(String(p.id)));
    if (query.q) items = items.filter((p) => String(p.name).toLowerCase().includes(query.q.toLowerCase()));
    return Promise.resolve({ items, next_cursor: null, total: items.length });
  });
});

function renderChips() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <MemoryRouter>
        <LinkChips link={link} parent={parent} frozen={false} />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

async function pick(name: string) {
  const box = await screen.findByRole("combobox", { name: "Add instructor" });
  fireEvent.change(box, { target: { value: name.slice(0, 5) } });
  fireEvent.click(await screen.findByRole("option", { name: new RegExp(name) }));
}

describe("LinkChips", () => {
  it("names the linked records, each a link to its page", async () => {
    renderChips();
    const list = await screen.findByRole("list", { name: "Instructors" });
    await within(list).findByRole("link", { name: "Ada Lovelace" });
    expect(within(list).getByRole("link", { name: "Grace Hopper" }).getAttribute("href")).toBe("/r/instructors/2");
  });

  it("adds a record chosen in the picker as a row of the link table", async () => {
    const create = vi.spyOn(api, "create").mockImplementation((_r, values) => {
      const row = { id: 52, ...values, _version: 1, _deleted_at: null } as RecordBody;
      links.push(row);
      return Promise.resolve(row);
    });
    renderChips();
    await pick("Katherine Johnson");
    await waitFor(() => expect(create).toHaveBeenCalledWith("course_instructors", { course_id: 7, instructor_id: 3 }));
    expect(await screen.findByRole("link", { name: "Katherine Johnson" })).toBeTruthy();
    expect(screen.getByText("Added Katherine Johnson.")).toBeTruthy();
  });

  it("says a record already linked is, without asking the server", async () => {
    const create = vi.spyOn(api, "create");
    renderChips();
    await screen.findByRole("link", { name: "Ada Lovelace" });
    await pick("Ada Lovelace");
    expect(await screen.findByText("Ada Lovelace is already one of the instructors.")).toBeTruthy();
    expect(create).not.toHaveBeenCalled();
  });

  it("says so when someone linked the same record a moment before", async () => {
    vi.spyOn(api, "create").mockRejectedValue(
      new ProblemError({ type: "", title: "Conflict", status: 409, detail: "A record with the same unique value already exists." }),
    );
    renderChips();
    await pick("Katherine Johnson");
    expect(await screen.findByText("Katherine Johnson is already one of the instructors.")).toBeTruthy();
  });

  it("removes a link by deleting its row at the version shown", async () => {
    const remove = vi.spyOn(api, "remove").mockImplementation((_r, pk) => {
      const row = links.find((l) => String(l.id) === pk)!;
      row._deleted_at = "2026-03-01T10:00:00Z";
      return Promise.resolve({ ...row, _version: 2 });
    });
    renderChips();
    fireEvent.click(await screen.findByRole("button", { name: "Remove Grace Hopper" }));
    await waitFor(() => expect(remove).toHaveBeenCalledWith("course_instructors", "51", 1));
    await waitFor(() => expect(screen.queryByRole("link", { name: "Grace Hopper" })).toBeNull());
  });

  it("follows a link added elsewhere", async () => {
    renderChips();
    await screen.findByRole("link", { name: "Ada Lovelace" });
    links.push({ id: 53, course_id: 7, instructor_id: 3, _version: 1, _deleted_at: null });
    act(() =>
      listeners.get("r/course_instructors")?.forEach((l) =>
        l({
          type: "change", topic: "r/course_instructors", cursor: "c9",
          change: {
            id: 9, at: "2026-03-01T10:00:00Z", resource: "course_instructors", pk: "53", op: "insert", actor: { id: 9, name: "Rita" },
            source: "api", db_role: null, request_id: null, hidden_fields: false, version: 1, diff: { course_id: { old: null, new: 7 }, instructor_id: { old: null, new: 3 } },
          },
        }),
      ),
    );
    expect(await screen.findByRole("link", { name: "Katherine Johnson" })).toBeTruthy();
  });
});
