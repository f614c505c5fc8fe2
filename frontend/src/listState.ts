// A list's query in the address: `?view=3&sort=-start_date,title&filter[status][eq]=open&q=intro&deleted=only`.
// The parameters are the records API's own (docs/api.md), so a list's link
// reads like the request it makes, and the server checks it the same way.
import type { FilterPref } from "./api/models";

export interface ListState {
  /** The records API's `sort` ("" for the resource's default). */
  sort: string;
  filters: FilterPref[];
  /** The search (`q`), "" for none. */
  q: string;
  /** The deleted view (`deleted=only`). */
  deleted: boolean;
  /** The shared view shown (its id, `view=3`), "" for the user's own view. Not a records API parameter. */
  view: string;
}

export const EMPTY_LIST_STATE: ListState = { sort: "", filters: [], q: "", deleted: false, view: "" };

/** Rows a list asks for at a time. */
export const LIST_PAGE_SIZE = 50;

/** The records API's query parameters for these filters. */
export function filterParams(filters: FilterPref[]): Record<string, string> {
  return Object.fromEntries(filters.map((f) => [`filter[${f.field}][${f.op}]`, f.value]));
}

/**
 * What a list in `state` asks the records API for: its sort (the resource's
 * default when the state has none), its other parameters in the flat form
 * (filters, search, the deleted view where the resource has one), and the
 * key the list's pages are cached under. The list page and the page's first
 * script (early.ts) both ask through this, so the rows one asks for are the
 * rows the other reads.
 */
export function listQuery(
  state: ListState,
  meta: { default_sort: string[]; soft_delete: boolean },
): { sort: string; params: Record<string, string>; key: string } {
  const trash = state.deleted && meta.soft_delete;
  const params = { ...filterParams(state.filters), ...(state.q ? { q: state.q } : {}), ...(trash ? { deleted: "only" } : {}) };
  return { sort: state.sort || meta.default_sort.join(","), params, key: JSON.stringify(params) };
}

/** The query the list's first page is read with (flat form: see api/query.ts's recordsQuery). */
export function firstPageQuery(query: { sort: string; params: Record<string, string> }): Record<string, string> {
  return { limit: String(LIST_PAGE_SIZE), ...query.params, ...(query.sort ? { sort: query.sort } : {}) };
}

const FILTER_WITH_OP = /^filter\[(.+)\]\[([a-z]+)\]$/;
const FILTER_EQ = /^filter\[(.+)\]$/;

function filterOf(key: string, value: string): FilterPref | null {
  const withOp = FILTER_WITH_OP.exec(key);
  if (withOp) return { field: withOp[1], op: withOp[2], value };
  const eq = FILTER_EQ.exec(key);
  return eq ? { field: eq[1], op: "eq", value } : null;
}

/** Whether the address names a list state at all (else the user's saved settings apply). */
export function hasListState(params: URLSearchParams): boolean {
  return [...params.keys()].some((key) => key === "sort" || key === "q" || key === "deleted" || key === "view" || filterOf(key, "") !== null);
}

/** The list state an address names; what it leaves out is empty. */
export function parseListState(params: URLSearchParams): ListState {
  const filters: FilterPref[] = [];
  for (const [key, value] of params) {
    const filter = filterOf(key, value);
    // One value per field and operator, the last one written (as the records API reads it).
    if (filter) filters.splice(0, filters.length, ...filters.filter((f) => !(f.field === filter.field && f.op === filter.op)), filter);
  }
  return {
    sort: params.get("sort") ?? "",
    filters,
    q: params.get("q") ?? "",
    deleted: params.get("deleted") === "only",
    view: /^[0-9]{1,18}$/.test(params.get("view") ?? "") ? (params.get("view") ?? "") : "",
  };
}

/** Percent-encoding that leaves the brackets and commas of filters and sorts readable. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/%5B/g, "[").replace(/%5D/g, "]").replace(/%2C/g, ",");
}

/** The address's query for a list state ("" for the empty one), parameters in a stable order. */
export function listStateSearch(state: ListState): string {
  const parts: string[] = [];
  if (state.view) parts.push(`view=${encode(state.view)}`);
  if (state.sort) parts.push(`sort=${encode(state.sort)}`);
  for (const f of state.filters) parts.push(`${encode(`filter[${f.field}][${f.op}]`)}=${encode(f.value)}`);
  if (state.q) parts.push(`q=${encode(state.q)}`);
  if (state.deleted) parts.push("deleted=only");
  // A shared view with nothing else: `sort=` says so, as `?view=3` alone means "the view's own sort and filters".
  if (parts.length === 1 && state.view) parts.push("sort=");
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

// -- sorting by several keys ---------------------------------------------------

export interface SortKey {
  field: string;
  desc: boolean;
}

export function parseSort(sort: string): SortKey[] {
  return sort
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => (part.startsWith("-") ? { field: part.slice(1), desc: true } : { field: part.replace(/^\+/, ""), desc: false }));
}

export function formatSort(keys: SortKey[]): string {
  return keys.map((k) => (k.desc ? `-${k.field}` : k.field)).join(",");
}

/**
 * The sort after a click on a column header. A plain click sorts by that
 * column alone (ascending, or descending when it already leads ascending).
 * With `add` (Shift): a column not in the sort joins it as the last key,
 * ascending; one in it turns descending in place, and a descending one
 * leaves the sort.
 */
export function clickSort(keys: SortKey[], field: string, add: boolean): SortKey[] {
  if (!add) {
    const lead = keys[0];
    return [{ field, desc: lead?.field === field && !lead.desc }];
  }
  const at = keys.findIndex((k) => k.field === field);
  if (at < 0) return [...keys, { field, desc: false }];
  if (!keys[at].desc) return keys.map((k, i) => (i === at ? { field, desc: true } : k));
  return keys.filter((_, i) => i !== at);
}
