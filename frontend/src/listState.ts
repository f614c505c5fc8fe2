// A list's query in the address: `?sort=-start_date,title&filter[status][eq]=open&q=intro&deleted=only`.
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
}

export const EMPTY_LIST_STATE: ListState = { sort: "", filters: [], q: "", deleted: false };

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
  return [...params.keys()].some((key) => key === "sort" || key === "q" || key === "deleted" || filterOf(key, "") !== null);
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
  };
}

/** Percent-encoding that leaves the brackets and commas of filters and sorts readable. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/%5B/g, "[").replace(/%5D/g, "]").replace(/%2C/g, ",");
}

/** The address's query for a list state ("" for the empty one), parameters in a stable order. */
export function listStateSearch(state: ListState): string {
  const parts: string[] = [];
  if (state.sort) parts.push(`sort=${encode(state.sort)}`);
  for (const f of state.filters) parts.push(`${encode(`filter[${f.field}][${f.op}]`)}=${encode(f.value)}`);
  if (state.q) parts.push(`q=${encode(state.q)}`);
  if (state.deleted) parts.push("deleted=only");
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
