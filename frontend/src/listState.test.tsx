// A list's state in the address: parsed and written back as the records
// API's parameters, seeded from the saved settings, and saved on change.
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { act, cleanup, render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect } from "react";
import { createMemoryRouter, RouterProvider, useLocation } from "react-router-dom";
import { api } from "./api/client";
import type { SharedView, ViewPref } from "./api/models";
import { useListState } from "./hooks/useListState";
import { clickSort, formatSort, hasListState, listStateSearch, parseListState, parseSort, type ListState } from "./listState";

afterEach(cleanup);

describe("the address of a list", () => {
  it("reads the records API's parameters, a bare filter being eq", () => {
    const params = new URLSearchParams("sort=-start_date,title&filter[status]=open&filter[start_date][gte]=2026-01-01&q=intro&deleted=only&field=x");
    expect(hasListState(params)).toBe(true);
    expect(parseListState(params)).toEqual({
      sort: "-start_date,title",
      filters: [
        { field: "status", op: "eq", value: "open" },
        { field: "start_date", op: "gte", value: "2026-01-01" },
      ],
      q: "intro",
      deleted: true,
      view: "",
    });
    expect(hasListState(new URLSearchParams("field=title"))).toBe(false);
  });

  it("writes a state back to the same state, brackets and commas readable", () => {
    const state: ListState = {
      sort: "-start_date,title",
      filters: [
        { field: "Column Name", op: "icontains", value: "a & b" },
        { field: "status", op: "in", value: "open,draft" },
      ],
      q: "machine learning",
      deleted: false,
      view: "",
    };
    const search = listStateSearch(state);
    expect(search).toBe("?sort=-start_date,title&filter[Column%20Name][icontains]=a%20%26%20b&filter[status][in]=open,draft&q=machine%20learning");
    expect(parseListState(new URLSearchParams(search))).toEqual(state);
    expect(listStateSearch({ sort: "", filters: [], q: "", deleted: false, view: "" })).toBe("");
  });

  it("keeps the last of two values for one field and operator", () => {
    const state = parseListState(new URLSearchParams("filter[status][eq]=open&filter[status][eq]=closed"));
    expect(state.filters).toEqual([{ field: "status", op: "eq", value: "closed" }]);
  });
});

describe("sorting by several keys", () => {
  const keys = parseSort("title,-start_date");

  it("sorts by a column alone on a plain click, turning the lead around", () => {
    expect(formatSort(clickSort(keys, "status", false))).toBe("status");
    expect(formatSort(clickSort(keys, "title", false))).toBe("-title");
    expect(formatSort(clickSort(parseSort("-title"), "title", false))).toBe("title");
  });

  it("adds, turns and removes a key on Shift+click", () => {
    expect(formatSort(clickSort(keys, "status", true))).toBe("title,-start_date,status");
    expect(formatSort(clickSort(keys, "title", true))).toBe("-title,-start_date");
    expect(formatSort(clickSort(keys, "start_date", true))).toBe("title");
  });
});

// -- the hook, in a router ----------------------------------------------------

const saved: ViewPref = {
  columns: [{ field: "title" }],
  sort: "-start_date",
  filters: [{ field: "status", op: "eq", value: "open" }],
  updated_at: "2026-11-23T10:00:00Z",
};

let save: MockInstance<typeof api.saveViewPref>;
beforeEach(() => {
  vi.spyOn(api, "viewPref").mockResolvedValue(saved);
  vi.spyOn(api, "sharedViews").mockResolvedValue({ items: [] });
  save = vi.spyOn(api, "saveViewPref").mockImplementation(async (_resource, config) => ({ ...config, updated_at: "now" }));
});

type Hook = ReturnType<typeof useListState>;
const probe: { change: Hook["change"]; chooseView: Hook["chooseView"]; updateColumns: Hook["updateColumns"] } = {
  change: () => {},
  chooseView: () => {},
  updateColumns: () => {},
};

function Probe() {
  const list = useListState("courses");
  const location = useLocation();
  useEffect(() => {
    probe.change = list.change;
    probe.chooseView = list.chooseView;
    probe.updateColumns = list.updateColumns;
  });
  return (
    <>
      <output data-testid="state">{list.state ? JSON.stringify(list.state) : "loading"}</output>
      <output data-testid="columns">{JSON.stringify(list.columns)}</output>
      <output data-testid="modified">{String(list.modified)}</output>
      <output data-testid="views">{list.views.length}</output>
      <output data-testid="search">{location.search}</output>
    </>
  );
}

function open(url: string) {
  const router = createMemoryRouter([{ path: "/r/courses", element: <Probe /> }], { initialEntries: [url] });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return router;
}

const shown = () => JSON.parse(screen.getByTestId("state").textContent ?? "null") as ListState;

describe("useListState", () => {
  it("shows the saved sort and filters without list parameters, and writes them into the address", async () => {
    open("/r/courses");
    await waitFor(() => expect(screen.getByTestId("search").textContent).toBe("?sort=-start_date&filter[status][eq]=open"));
    expect(shown()).toEqual({ sort: "-start_date", filters: saved.filters, q: "", deleted: false, view: "" });
    expect(save).not.toHaveBeenCalled();
  });

  it("shows what a link names rather than the saved settings, and saves nothing for opening it", async () => {
    open("/r/courses?sort=title,-start_date&filter[status][eq]=closed&q=ethics");
    await waitFor(() => expect(screen.getByTestId("state").textContent).not.toBe("loading"));
    expect(shown()).toEqual({ sort: "title,-start_date", filters: [{ field: "status", op: "eq", value: "closed" }], q: "ethics", deleted: false, view: "" });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(save).not.toHaveBeenCalled();
  });

  it("puts a change in the address and saves the sort and filters (not the search)", async () => {
    const router = open("/r/courses?sort=title");
    await waitFor(() => expect(screen.getByTestId("state").textContent).not.toBe("loading"));
    act(() => probe.change({ sort: "title,-start_date", filters: [{ field: "status", op: "eq", value: "draft" }] }));
    expect(screen.getByTestId("search").textContent).toBe("?sort=title,-start_date&filter[status][eq]=draft");
    await waitFor(() => expect(save).toHaveBeenCalledTimes(1));
    expect(save.mock.calls[0][1]).toEqual({
      columns: saved.columns,
      sort: "title,-start_date",
      filters: [{ field: "status", op: "eq", value: "draft" }],
    });

    act(() => probe.change({ q: "law" }));
    expect(screen.getByTestId("search").textContent).toBe("?sort=title,-start_date&filter[status][eq]=draft&q=law");
    // The deleted view is a step of its own in the history: Back leaves it.
    const entries = router.state.historyAction;
    act(() => probe.change({ deleted: true }, { push: true }));
    expect(shown().deleted).toBe(true);
    expect(router.state.historyAction).toBe("PUSH");
    expect(entries).toBe("REPLACE");
    await act(() => router.navigate(-1));
    expect(shown()).toEqual({ sort: "title,-start_date", filters: [{ field: "status", op: "eq", value: "draft" }], q: "law", deleted: false, view: "" });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(save).toHaveBeenCalledTimes(1);
  });
});

describe("shared views as the list's views", () => {
  const shared: SharedView = {
    id: 5,
    name: "Closed by title",
    columns: [{ field: "title" }, { field: "status" }],
    sort: "title",
    filters: [{ field: "status", op: "eq", value: "closed" }],
    created_by: { id: 2, name: "Editor" },
    created_at: "2026-11-23T10:00:00Z",
    editable: true,
  };
  beforeEach(() => {
    vi.spyOn(api, "sharedViews").mockResolvedValue({ items: [shared] });
  });
  const columns = () => JSON.parse(screen.getByTestId("columns").textContent ?? "null") as unknown;

  it("opens a view from the address, with its sort, filters and columns", async () => {
    open("/r/courses?view=5");
    await waitFor(() => expect(screen.getByTestId("search").textContent).toBe("?view=5&sort=title&filter[status][eq]=closed"));
    expect(columns()).toEqual(shared.columns);
    expect(screen.getByTestId("modified").textContent).toBe("false");
  });

  it("shows the user's own columns for a view that no longer exists", async () => {
    open("/r/courses?view=99&sort=title");
    await waitFor(() => expect(screen.getByTestId("views").textContent).toBe("1"));
    await waitFor(() => expect(columns()).toEqual(saved.columns));
    expect(screen.getByTestId("modified").textContent).toBe("false");
  });

  it("changes what a shared view shows without saving over the user's own settings, and goes back to them", async () => {
    const router = open("/r/courses");
    await waitFor(() => expect(screen.getByTestId("search").textContent).toBe("?sort=-start_date&filter[status][eq]=open"));
    await waitFor(() => expect(screen.getByTestId("views").textContent).toBe("1"));
    act(() => probe.chooseView(shared));
    await waitFor(() => expect(screen.getByTestId("search").textContent).toBe("?view=5&sort=title&filter[status][eq]=closed"));
    expect(router.state.historyAction).toBe("PUSH");
    act(() => probe.change({ sort: "-title" }));
    act(() => probe.updateColumns((c) => ({ ...c, columns: [{ field: "status" }] })));
    expect(screen.getByTestId("search").textContent).toBe("?view=5&sort=-title&filter[status][eq]=closed");
    expect(columns()).toEqual([{ field: "status" }]);
    expect(screen.getByTestId("modified").textContent).toBe("true");
    // Clearing the view's sort and filters keeps them cleared (the address says so).
    act(() => probe.change({ sort: "", filters: [] }));
    expect(screen.getByTestId("search").textContent).toBe("?view=5&sort=");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.getByTestId("search").textContent).toBe("?view=5&sort=");
    act(() => probe.change({ sort: "-title", filters: shared.filters }));
    act(() => probe.chooseView(null));
    expect(screen.getByTestId("search").textContent).toBe("?sort=-start_date&filter[status][eq]=open");
    expect(columns()).toEqual(saved.columns);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(save).not.toHaveBeenCalled();
  });
});
