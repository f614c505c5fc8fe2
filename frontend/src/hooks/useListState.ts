// Where a list's query lives: in the address (so a link shares it, and
// reload and Back restore it), seeded from the user's saved list settings
// when the address names none. Columns stay in the saved settings only.
import { useCallback, useEffect, useMemo } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import type { ViewConfig } from "../api/models";
import { hasListState, listStateSearch, parseListState, type ListState } from "../listState";
import { useViewPref } from "./useViewPref";

export interface ListStateOptions {
  /** A new history entry (Back returns to the state before), rather than replacing this one. */
  push?: boolean;
  /** Save the sort and filters as the user's settings at once (clearing settings the server refuses). */
  saveNow?: boolean;
}

/**
 * The list state and a way to change it.
 *
 * - An address with list parameters is the state, whatever is saved: a
 *   shared link shows what its author saw (and is not saved over the
 *   reader's own settings until the reader changes something).
 * - An address without them (the navigation's link) shows the saved sort and
 *   filters, and writes them into the address in place, so the address is
 *   always a link to what is on screen.
 * - A change rewrites the address (in place by default: Back leaves the
 *   list rather than stepping through each filter typed) and saves a changed
 *   sort or filters as the user's settings, so the next visit starts there.
 */
export function useListState(resource: string) {
  const location = useLocation();
  const navigate = useNavigate();
  const { config, error, update } = useViewPref(resource);
  const params = useMemo(() => new URLSearchParams(location.search), [location.search]);
  const named = hasListState(params);

  // Null until the saved settings are loaded (they hold the columns, and a change saves over them).
  const state = useMemo<ListState | null>(() => {
    if (!config) return null;
    return named ? parseListState(params) : { sort: config.sort, filters: config.filters, q: "", deleted: false };
  }, [named, params, config]);

  const search = state ? listStateSearch(state) : "";
  useEffect(() => {
    if (!named && search !== "") navigate({ search }, { replace: true, state: location.state });
  }, [named, search, navigate, location.state]);

  const change = useCallback(
    (next: Partial<ListState>, options: ListStateOptions = {}) => {
      if (!state) return;
      const merged = { ...state, ...next };
      navigate({ search: listStateSearch(merged) }, { replace: !options.push });
      if (next.sort !== undefined || next.filters !== undefined) {
        update((c) => ({ ...c, sort: merged.sort, filters: merged.filters }), options.saveNow);
      }
    },
    [state, navigate, update],
  );

  /** Apply a whole view (a shared one, or the defaults): its columns, sort and filters. */
  const apply = useCallback(
    (view: ViewConfig) => {
      update(() => view);
      if (state) navigate({ search: listStateSearch({ ...state, sort: view.sort, filters: view.filters }) }, { replace: true });
    },
    [state, navigate, update],
  );

  return { state, columns: config?.columns ?? null, error, change, apply, updateColumns: update };
}
