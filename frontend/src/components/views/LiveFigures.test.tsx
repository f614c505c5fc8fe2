// The dashboard's figures: live views that describe no record, read again
// when one of their rows moves; views of records and tables are not shown.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { Page, ResourceMeta } from "../../api/models";
import type { ServerFrame } from "../../live";

const listeners = new Map<string, (frame: ServerFrame) => void>();
const list = vi.fn<(resource: string, query: Record<string, string>) => Promise<Page>>();

vi.mock("../../live", () => ({
  live: {
    subscribe: (topic: string, listener: (frame: ServerFrame) => void) => {
      listeners.set(topic, listener);
      return () => listeners.delete(topic);
    },
  },
}));
vi.mock("../../api/client", () => ({
  api: { list: (resource: string, query: Record<string, string>) => list(resource, query) },
}));

const { LiveFigures } = await import("./LiveFigures");

afterEach(() => {
  cleanup();
  listeners.clear();
  list.mockReset();
});

const meta = (over: Partial<ResourceMeta>): ResourceMeta => ({
  name: "catalogue_figures",
  label: "Catalogue figure",
  label_plural: "Catalogue figures",
  pk: "status",
  display: "status",
  live: true,
  derived: true,
  describes: null,
  actions: ["view"],
  fields: [
    { name: "status", type: "string", label: "Status", required: false, read_only: true, operators: [] },
    { name: "courses", type: "integer", label: "Courses", required: false, read_only: true, operators: [] },
  ],
  related: [],
  default_sort: ["status"],
  searchable: false,
  soft_delete: true,
  record_actions: [],
  preview_url: null,
  read_only_reason: null,
  ...over,
});

const page = (open: number): Page => ({
  items: [
    { status: "draft", courses: 4, _version: 1, _deleted_at: null },
    { status: "open", courses: open, _version: 2, _deleted_at: null },
  ],
  next_cursor: null,
  total: 2,
});

describe("LiveFigures", () => {
  it("shows the figures and reads them again when a row moves", async () => {
    list.mockResolvedValueOnce(page(7)).mockResolvedValueOnce(page(8));
    render(
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <MemoryRouter>
          <LiveFigures
            resources={[
              meta({}),
              meta({ name: "course_overview", describes: "courses" }),
              meta({ name: "courses", derived: false }),
            ]}
          />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    expect(await screen.findByRole("link", { name: "Catalogue figures" })).toBeTruthy();
    const open = () => screen.getByText("open").closest("tr")!;
    await waitFor(() => expect(open().textContent).toContain("7"));
    expect(list).toHaveBeenCalledTimes(1);
    expect(list).toHaveBeenCalledWith("catalogue_figures", { limit: "10" });
    expect([...listeners.keys()]).toEqual(["r/catalogue_figures"]);

    listeners.get("r/catalogue_figures")!({
      type: "change",
      topic: "r/catalogue_figures",
      cursor: "c1",
      change: {
        id: 1,
        at: "2026-12-01T10:00:00Z",
        resource: "catalogue_figures",
        pk: "open",
        op: "update",
        actor: null,
        db_role: null,
        request_id: null,
        hidden_fields: false,
        source: "view",
        version: 3,
        diff: { courses: { old: 7, new: 8 } },
      },
    });
    await waitFor(() => expect(open().textContent).toContain("8"));
    expect(list).toHaveBeenCalledTimes(2);
  });
});
