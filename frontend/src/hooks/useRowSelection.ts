// The rows a person has chosen on a list, for a bulk action. React state of
// the list page: live frames and refetches replace the rows, never the choice.
import { useCallback, useMemo, useState } from "react";
import type { RecordBody, ResourceMeta } from "../api/models";
import { recordKey } from "../recordKey";

export interface RowSelection {
  /** The chosen keys that are on the list now, in the list's order. */
  keys: string[];
  /** Every row matching the list's query (its filters, search, deleted view), loaded or not. */
  all: boolean;
  /** Chosen rows that have left the list since (someone changed them out of the filter, or deleted them). */
  gone: number;
  has: (key: string) => boolean;
  toggle: (key: string) => void;
  /** Choose all loaded row, or none when all of them are chosen. */
  togglePage: () => void;
  /** The page's checkbox: all loaded rows chosen, some, or none. */
  pageState: "all" | "some" | "none";
  selectAll: () => void;
  clear: () => void;
}

/**
 * Which rows are chosen, by key. The choice starts afresh when `scope`
 * changes (another filter, search or deleted view: other rows), and
 * otherwise stays: a row someone else changes stays chosen (and shows its
 * new values); a row that leaves the list is left out of what a bulk action
 * acts on and counted in `gone`, and comes back chosen if it returns.
 */
export function useRowSelection(meta: Pick<ResourceMeta, "pk" | "fields">, rows: RecordBody[], scope: string): RowSelection {
  const [state, setState] = useState<{ scope: string; keys: Set<string>; all: boolean }>({ scope, keys: new Set(), all: false });
  const current = useMemo(() => (state.scope === scope ? state : { scope, keys: new Set<string>(), all: false }), [state, scope]);
  if (current !== state) setState(current);

  const rowKeys = useMemo(() => rows.map((row) => recordKey(meta, row)).filter((k): k is string => k !== null), [meta, rows]);
  const onList = useMemo(() => new Set(rowKeys), [rowKeys]);
  const keys = useMemo(() => rowKeys.filter((k) => current.keys.has(k)), [rowKeys, current.keys]);
  const gone = current.all ? 0 : [...current.keys].filter((k) => !onList.has(k)).length;

  const toggle = useCallback(
    (key: string) =>
      setState((s) => {
        // Unchoosing one row of "all matching" leaves the other loaded rows chosen.
        const next = new Set(s.all ? rowKeys : s.keys);
        if (next.has(key)) next.delete(key);
        else next.add(key);
        return { scope: s.scope, keys: next, all: false };
      }),
    [rowKeys],
  );
  const pageState = rowKeys.length > 0 && (current.all || keys.length === rowKeys.length) ? "all" : keys.length > 0 ? "some" : "none";
  const togglePage = useCallback(
    () => setState((s) => ({ scope: s.scope, keys: pageState === "all" ? new Set() : new Set(rowKeys), all: false })),
    [pageState, rowKeys],
  );
  const selectAll = useCallback(() => setState((s) => ({ scope: s.scope, keys: new Set(rowKeys), all: true })), [rowKeys]);
  const clear = useCallback(() => setState((s) => ({ scope: s.scope, keys: new Set(), all: false })), []);
  const has = useCallback((key: string) => current.all || current.keys.has(key), [current]);

  return { keys: current.all ? rowKeys : keys, all: current.all, gone, has, toggle, togglePage, pageState, selectAll, clear };
}
