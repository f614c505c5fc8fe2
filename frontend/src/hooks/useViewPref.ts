// The list's columns, sort and filters: loaded from the user's saved
// preference, changed locally at once, and saved (debounced) so that they
// survive a reload. A config that names a field the user can no longer read
// never arrives: the server drops it.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../api/client";
import type { FilterPref, ViewConfig } from "../api/models";
import { useToast } from "../toasts";

const SAVE_DELAY_MS = 300;

export function useViewPref(resource: string) {
  // Read like any query (the copy read when the page started serves the list's
  // first render); a save marks it stale, so a list shown again reads it anew.
  const pref = useQuery({ queryKey: ["view-pref", resource], queryFn: () => api.viewPref(resource) });
  const queryClient = useQueryClient();
  // What the user changed here, for this resource; until then (and on another
  // resource) the list shows the saved preference.
  const [local, setLocal] = useState<{ resource: string; config: ViewConfig } | null>(null);
  const fromSaved = useMemo<ViewConfig | null>(
    () => (pref.data ? { columns: pref.data.columns, sort: pref.data.sort, filters: pref.data.filters } : null),
    [pref.data],
  );
  const config = local?.resource === resource ? local.config : fromSaved;
  const timer = useRef<number | undefined>(undefined);
  // A change not yet sent: sent when its delay ends, or at once when the list
  // goes (another page) or the tab does (a reload, a closed tab), so the last
  // change made right before leaving is not lost.
  const pending = useRef<{ resource: string; config: ViewConfig } | null>(null);
  const toast = useToast();

  const send = useCallback(
    (keepalive = false) => {
      window.clearTimeout(timer.current);
      const unsent = pending.current;
      pending.current = null;
      if (!unsent) return;
      api
        .saveViewPref(unsent.resource, unsent.config, { keepalive })
        .then(() => queryClient.invalidateQueries({ queryKey: ["view-pref", unsent.resource] }))
        .catch((error: unknown) => {
          toast(
            `Your list settings were not saved: ${error instanceof ProblemError ? error.problem.detail : String(error)}`,
            { tone: "error" },
          );
        });
    },
    [toast, queryClient],
  );
  useEffect(() => {
    const onHide = () => send(true);
    window.addEventListener("pagehide", onHide);
    return () => {
      window.removeEventListener("pagehide", onHide);
      send(true);
    };
  }, [send]);

  /**
   * Change the config; it is saved for this user shortly after the last change,
   * or at once with `now` (clearing settings the server refuses: leaving the
   * page right after must not leave the broken ones saved).
   */
  const update = useCallback(
    (change: (current: ViewConfig) => ViewConfig, now = false) => {
      setLocal((mine) => {
        const current = mine?.resource === resource ? mine.config : fromSaved;
        if (!current) return mine;
        const next = change(current);
        pending.current = { resource, config: next };
        window.clearTimeout(timer.current);
        if (now) send();
        else timer.current = window.setTimeout(() => send(), SAVE_DELAY_MS);
        return { resource, config: next };
      });
    },
    [resource, fromSaved, send],
  );

  return { config, error: pref.error, update };
}

export function filterValue(filters: FilterPref[], field: string, op: string): string {
  return filters.find((f) => f.field === field && f.op === op)?.value ?? "";
}

/** The filters with (field, op) set to value, or removed when value is empty. */
export function withFilter(filters: FilterPref[], field: string, op: string, value: string): FilterPref[] {
  const rest = filters.filter((f) => !(f.field === field && f.op === op));
  return value === "" ? rest : [...rest, { field, op, value }];
}
