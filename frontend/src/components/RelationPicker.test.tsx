// The relation picker against a fake records API of 300 categories: the
// server does the searching, labels are read by key, the keyboard chooses.
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { api } from "../api/client";
import type { FieldMeta, FieldValue, Meta, RecordBody, ResourceMeta } from "../api/models";
import { FilterControl } from "./list/FilterControl";
import { FieldInput } from "./FieldInput";

afterEach(cleanup);

const keyOps: FieldMeta["operators"] = ["eq", "ne", "lt", "lte", "gt", "gte", "in", "isnull"];
const categories: ResourceMeta = {
  name: "categories", label: "Category", label_plural: "Categories", pk: "id", display: "name", live: true,
  actions: ["view"], related: [], default_sort: ["name"], searchable: true, soft_delete: true, record_actions: [], preview_url: null, read_only_reason: null, derived: false, describes: null,
  fields: [
    { name: "id", type: "integer", label: "Id", required: false, read_only: true, operators: keyOps },
    { name: "name", type: "string", label: "Name", required: true, read_only: false, operators: ["eq", "icontains"] },
  ],
};
const meta: Meta = { resources: [categories], workflows: [] };
const category: FieldMeta = {
  name: "category_id", type: "integer", label: "Category", required: false, read_only: false, operators: keyOps,
  relation: { resource: "categories", display: "name" },
};

// 300 categories; "Zoology" is number 287, far past any first page sorted by name.
const rows: RecordBody[] = Array.from({ length: 300 }, (_, i) => ({
  id: i + 1,
  name: i + 1 === 287 ? "Zoology" : i + 1 === 2 ? "Mathematics" : i + 1 === 3 ? "Mathematical Physics" : `Area ${String(i + 1).padStart(3, "0")}`,
  _version: 1,
  _deleted_at: null,
}));

/** The records API's list as the server answers it: search, `in`/`eq` on the key, sort by name, limit. */
function fakeList(resource: string, query: Record<string, string>) {
  expect(resource).toBe("categories");
  let found = rows;
  if (query.q) found = found.filter((r) => String(r.name).toLowerCase().includes(query.q.toLowerCase()));
  if (query["filter[id][in]"]) {
    const ids = query["filter[id][in]"].split(",").map(Number);
    found = found.filter((r) => ids.includes(r.id as number));
  }
  if (query["filter[id][eq]"]) found = found.filter((r) => r.id === Number(query["filter[id][eq]"]));
  if (query.sort === "name") found = [...found].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const limit = Number(query.limit ?? 50);
  return Promise.resolve({ items: found.slice(0, limit), next_cursor: found.length > limit ? "next" : null, total: found.length });
}

let list: MockInstance<typeof api.list>;
beforeEach(() => {
  vi.spyOn(api, "meta").mockResolvedValue(meta);
  list = vi.spyOn(api, "list").mockImplementation(fakeList);
});

function wrap(children: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}

/** A record form's field holding a category, as the record page holds it. */
function Form({ initial, onChange }: { initial: FieldValue; onChange: (value: FieldValue) => void }) {
  const [value, setValue] = useState<FieldValue>(initial);
  return (
    <FieldInput
      field={category}
      value={value}
      readOnly={false}
      onChange={(v) => {
        setValue(v);
        onChange(v);
      }}
    />
  );
}

const calls = () => list.mock.calls.map((call) => call[1] as Record<string, string>);

describe("RelationPicker", () => {
  it("names a value whose record is not in the first page, read by its key", async () => {
    render(wrap(<Form initial={287} onChange={() => {}} />));
    const box = screen.getByRole("combobox", { name: "Category" });
    await waitFor(() => expect((box as HTMLInputElement).value).toBe("Zoology"));
    // One read by key, never "the first 200".
    expect(calls()).toEqual([{ "filter[id][in]": "287", limit: "1", deleted: "include" }]);
  });

  it("searches on the server as the user types, and chooses with the keyboard", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(wrap(<Form initial={287} onChange={onChange} />));
    const box = screen.getByRole("combobox", { name: "Category" });
    await waitFor(() => expect((box as HTMLInputElement).value).toBe("Zoology"));

    await user.click(box);
    await user.keyboard("{Control>}a{/Control}mathem");
    const listbox = screen.getByRole("listbox", { name: "Category: suggestions" });
    await waitFor(() => expect(within(listbox).queryAllByRole("option").map((o) => o.textContent)).toEqual(["Mathematical Physics#3", "Mathematics#2"]));
    expect(calls()).toContainEqual({ limit: "20", sort: "name", q: "mathem" });
    expect(box.getAttribute("aria-expanded")).toBe("true");

    // The first suggestion is highlighted; Down moves to the second, Enter chooses it.
    const options = within(listbox).getAllByRole("option");
    expect(box.getAttribute("aria-activedescendant")).toBe(options[0].id);
    await user.keyboard("{ArrowDown}");
    expect(box.getAttribute("aria-activedescendant")).toBe(options[1].id);
    expect(options[1].getAttribute("aria-selected")).toBe("true");
    await user.keyboard("{Enter}");
    expect(onChange).toHaveBeenLastCalledWith(2);
    expect((box as HTMLInputElement).value).toBe("Mathematics");
    expect(box.getAttribute("aria-expanded")).toBe("false");
  });

  it("puts the chosen name back on Escape, without changing the value", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(wrap(<Form initial={2} onChange={onChange} />));
    const box = screen.getByRole("combobox", { name: "Category" }) as HTMLInputElement;
    await waitFor(() => expect(box.value).toBe("Mathematics"));
    await user.click(box);
    await user.keyboard("{Control>}a{/Control}zoo");
    await screen.findByRole("option", { name: /Zoology/ });
    await user.keyboard("{Escape}");
    expect(box.value).toBe("Mathematics");
    expect(box.getAttribute("aria-expanded")).toBe("false");
    expect(onChange).not.toHaveBeenCalled();
  });

  it("finds a record by its key when digits are typed", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(wrap(<Form initial={null} onChange={onChange} />));
    await user.click(screen.getByRole("combobox", { name: "Category" }));
    await user.keyboard("287");
    await screen.findByRole("option", { name: /Zoology/ });
    await user.keyboard("{Enter}");
    expect(onChange).toHaveBeenLastCalledWith(287);
  });

  it("clears an optional value", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(wrap(<Form initial={2} onChange={onChange} />));
    await user.click(await screen.findByRole("button", { name: "Clear Category" }));
    expect(onChange).toHaveBeenLastCalledWith(null);
    expect((screen.getByRole("combobox", { name: "Category" }) as HTMLInputElement).value).toBe("");
  });

  it("filters a list by a related record chosen by name", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(wrap(<FilterControl field={category} filters={[]} onChange={onChange} />));
    await user.click(screen.getByRole("combobox", { name: "Filter Category" }));
    await user.keyboard("zoo");
    await screen.findByRole("option", { name: /Zoology/ });
    await user.keyboard("{Enter}");
    expect(onChange).toHaveBeenLastCalledWith([{ field: "category_id", op: "eq", value: "287" }]);
  });

  it("reads the labels of several keys shown at once in one request", async () => {
    render(
      wrap(
        <>
          <FilterControl field={category} filters={[{ field: "category_id", op: "eq", value: "287" }]} onChange={() => {}} />
          <Form initial={2} onChange={() => {}} />
        </>,
      ),
    );
    await waitFor(() => expect((screen.getByRole("combobox", { name: "Filter Category" }) as HTMLInputElement).value).toBe("Zoology"));
    expect((screen.getByRole("combobox", { name: "Category" }) as HTMLInputElement).value).toBe("Mathematics");
    expect(calls()).toEqual([{ "filter[id][in]": "287,2", limit: "2", deleted: "include" }]);
  });
});
