// Where a list's query lives: in the address (so a link shares it, and
// reload and Back restore it), seeded from the user's saved list settings
// when the address names none. Columns stay in the saved settings only.
import { useCallback, useEffect, useMemo, useState } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import type { ColumnPref, SharedView, ViewConfig } from "../api/models";
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
  const shared = useQuery({ queryKey: ["views", resource], queryFn: () => api.sharedViews(resource) });
  const params = useMemo(() => new URLSearchParams(location.search), [location.search]);
  const named = hasListState(params);

  // Null until the saved settings are loaded (they hold the columns, and a change saves over them).
  const state = useMemo<ListState | null>(() => {
    if (!config) return null;
    return named ? parseListState(params) : { sort: config.sort, filters: config.filters, q: "", deleted: false, view: "" };
  }, [named, params, config]);

  // The shared view the address names (null while loading, or once it is gone).
  const viewId = state?.view ?? "";
  const activeView: SharedView | null = (viewId && shared.data?.items.find((v) => String(v.id) === viewId)) || null;
  // Gone (or the shared views cannot be read): the user's own columns, and the page says so.
  const viewMissing = Boolean(viewId) && activeView === null && (shared.isSuccess || shared.isError);
  // Columns changed while a shared view is shown: this tab's only, never saved over the view or the user's own.
  const [viewColumns, setViewColumns] = useState<{ view: string; columns: ColumnPref[] } | null>(null);
  const columns: ColumnPref[] | null = !viewId || viewMissing
    ? (config?.columns ?? null)
    : viewColumns?.view === viewId
      ? viewColumns.columns
      : (activeView?.columns ?? null);

  // An address naming only a view (`?view=3`) shows that view's sort and filters, written in place.
  const bareView = named && [...params.keys()].every((k) => k === "view");
  const search = state ? listStateSearch(state) : "";
  useEffect(() => {
    if (!named && search !== "") navigate({ search }, { replace: true, state: location.state });
    else if (bareView && activeView && state) {
      const next = listStateSearch({ ...state, sort: activeView.sort, filters: activeView.filters });
      if (next !== location.search) navigate({ search: next }, { replace: true, state: location.state });
    }
  }, [named, search, navigate, location.state, location.search, bareView, activeView, state]);

  const change = useCallback(
    (next: Partial<ListState>, options: ListStateOptions = {}) => {
      if (!state) return;
      const merged = { ...state, ...next };
      navigate({ search: listStateSearch(merged) }, { replace: !options.push });
      // A shared view's sort and filters changed here are not the user's own settings.
      if (!merged.view && (next.sort !== undefined || next.filters !== undefined)) {
        update((c) => ({ ...c, sort: merged.sort, filters: merged.filters }), options.saveNow);
      }
    },
    [state, navigate, update],
  );

  /** Change the columns: the user's own settings, or (in a shared view) this tab's copy of the view's. */
  const updateColumns = useCallback(
    (change: (current: ViewConfig) => ViewConfig) => {
      if (!viewId || viewMissing) {
        update(change);
        return;
      }
      if (!columns || !state) return;
      const next = change({ columns, sort: state.sort, filters: state.filters });
      setViewColumns({ view: viewId, columns: next.columns });
    },
    [viewId, viewMissing, update, columns, state],
  );

  /** Apply a whole config (the defaults): its columns, sort and filters, to the view shown. */
  const apply = useCallback(
    (view: ViewConfig) => {
      if (!state) return;
      if (state.view) setViewColumns({ view: state.view, columns: view.columns });
      else update(() => view);
      navigate({ search: listStateSearch({ ...state, sort: view.sort, filters: view.filters }) }, { replace: true });
    },
    [state, navigate, update],
  );

  /**
   * Show a shared view, or the user's own view (null): a step in the
   * history of its own. Neither writes anything: choosing a shared view
   * leaves the user's own settings as they were.
   */
  const chooseView = useCallback(
    (view: SharedView | null) => {
      if (!state || !config) return;
      setViewColumns(null);
      const base = { q: "", deleted: false };
      const next: ListState = view
        ? { ...base, view: String(view.id), sort: view.sort, filters: view.filters }
        : { ...base, view: "", sort: config.sort, filters: config.filters };
      navigate({ search: listStateSearch(next) }, { replace: false });
    },
    [state, config, navigate],
  );

  // Whether what is shown differs from the shared view (its columns, sort or filters).
  const modified = Boolean(
    activeView && state && columns && !sameConfig(activeView, { columns, sort: state.sort, filters: state.filters }),
  );

  return {
    state,
    columns,
    error,
    change,
    apply,
    updateColumns,
    views: shared.data?.items ?? [],
    activeView,
    viewMissing,
    modified,
    chooseView,
    /** The user's own view's config (as saved), for "save as new view" from it. */
    ownConfig: config,
  };
}

function normalised(config: ViewConfig): string {
  return JSON.stringify({
    columns: config.columns.map((c) => ({ field: c.field, width: c.width ?? null, format: c.format ?? null })),
    sort: config.sort,
    filters: config.filters.map((f) => [f.field, f.op, f.value]),
  });
}

export function sameConfig(a: ViewConfig, b: ViewConfig): boolean {
  return normalised(a) === normalised(b);
}
