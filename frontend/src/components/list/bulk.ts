// What a bulk action acts on and what came of it: pure functions, tested on their own.
import type { BulkOutcome, BulkRequest, BulkRowConflict, FilterPref, RecordBody } from "../../api/models";

/**
 * The rows a bulk action acts on, as the person saw them when they chose it:
 * the keys (or the list's query, for "all N matching") and the version of
 * every row they saw. Taken once, when the action's dialog opens: a row
 * changed by someone else after that is a conflict, never overwritten.
 */
export interface BulkTarget {
  pks: string[] | null;
  query: Pick<BulkRequest, "filter" | "q" | "deleted"> | null;
  versions: Record<string, number>;
  /** How many rows (the list's total for "all matching"). */
  count: number;
  /** Names of the rows seen, for the outcome (a row not loaded is named by its key). */
  names: Record<string, string>;
}

/** The list's filters as the bulk request's `filter`: `{field: {op: value}}`. */
export function bulkFilter(filters: FilterPref[]): NonNullable<BulkRequest["filter"]> {
  const out: Record<string, Record<string, string | boolean | string[]>> = {};
  for (const f of filters) {
    // `in` and `overlaps` take a list (the list's query writes it joined by commas); `isnull` a yes/no.
    const value = f.op === "isnull" ? f.value === "true" : f.op === "in" || f.op === "overlaps" ? f.value.split(",") : f.value;
    out[f.field] = { ...out[f.field], [f.op]: value };
  }
  return out;
}

export function targetRequest(target: BulkTarget): Pick<BulkRequest, "pks" | "filter" | "q" | "deleted" | "versions"> {
  const versions = Object.keys(target.versions).length > 0 ? { versions: target.versions } : {};
  if (target.pks) return { pks: target.pks, ...versions };
  return { ...target.query, ...versions };
}

export function versionsOf(rows: RecordBody[], keyOf: (row: RecordBody) => string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) {
    const key = keyOf(row);
    if (key !== null) out[key] = row._version;
  }
  return out;
}

/** A row's resolution of its conflict: written after all, or left as the other person made it. */
export type Resolution = "mine" | "theirs";

/** Every key of an outcome: the lists API.md names, each key in exactly one. */
export const OUTCOME_LISTS = ["done", "unchanged", "forbidden", "not_found", "not_done"] as const;

export function emptyOutcome(): Required<Pick<BulkOutcome, "done" | "unchanged" | "conflicts" | "forbidden" | "not_found" | "invalid" | "not_done">> &
  Pick<BulkOutcome, "error"> {
  return { done: [], unchanged: [], conflicts: [], forbidden: [], not_found: [], invalid: [], not_done: [], error: null };
}

export type FullOutcome = ReturnType<typeof emptyOutcome> & {
  /** Conflicts resolved by keeping the other person's values. */
  theirs: string[];
  /** Rows a record action did not apply to, or that failed, with why. */
  skipped: { pk: string; reason: string }[];
};

export function fullOutcome(result: BulkOutcome): FullOutcome {
  return {
    done: result.done ?? [],
    unchanged: result.unchanged ?? [],
    conflicts: result.conflicts ?? [],
    forbidden: result.forbidden ?? [],
    not_found: result.not_found ?? [],
    invalid: result.invalid ?? [],
    not_done: result.not_done ?? [],
    error: result.error ?? null,
    theirs: [],
    skipped: [],
  };
}

/** The outcome once row `pk`'s conflict is settled by a new result for that row (or by keeping theirs). */
export function settle(outcome: FullOutcome, pk: string, result: BulkOutcome | "theirs"): FullOutcome {
  const without = <T extends string | { pk: string }>(list: T[]) => list.filter((x) => (typeof x === "string" ? x : x.pk) !== pk);
  const base: FullOutcome = {
    ...outcome,
    conflicts: without(outcome.conflicts),
  };
  if (result === "theirs") return { ...base, theirs: [...without(base.theirs), pk] };
  const next = { ...base };
  for (const list of OUTCOME_LISTS) next[list] = [...without(base[list]), ...(result[list] ?? [])];
  next.conflicts = [...next.conflicts, ...(result.conflicts ?? [])];
  next.invalid = [...without(base.invalid), ...(result.invalid ?? [])];
  if (result.error) next.error = result.error;
  return next;
}

/** The fields of `patch` not in the row's conflict: what "take theirs" still writes. */
export function patchWithout(patch: Record<string, unknown>, conflict: BulkRowConflict): Record<string, unknown> {
  const conflicting = new Set(conflict.conflicts.map((c) => c.field));
  return Object.fromEntries(Object.entries(patch).filter(([field]) => !conflicting.has(field)));
}
