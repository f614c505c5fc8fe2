// Keeps a resource's list pages (and its counts) current from the `r/{resource}`
// topic of the tab's one websocket. An update is applied to the cached row in
// place; inserts, deletes and restores, or an update to a field the list is
// filtered or sorted by, refetch the loaded pages so rows appear, move or go.
// Changed rows are marked for a moment so the eye finds them.
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { useQueryClient, type InfiniteData } from "@tanstack/react-query";
import type { Change, Page, RecordBody, ResourceMeta } from "../api/models";
import { recordKey } from "../recordKey";
import { live } from "../live";

const HIGHLIGHT_MS = 2500;
const REFETCH_DELAY_MS = 150;

export function useLiveList(resource: string, meta: Pick<ResourceMeta, "pk" | "fields">, watched: Set<string>) {
  const queryClient = useQueryClient();
  const [highlighted, setHighlighted] = useState<Set<string>>(new Set());
  const watchedRef = useRef(watched);
  const metaRef = useRef(meta);
  useLayoutEffect(() => {
    watchedRef.current = watched;
    metaRef.current = meta;
  });
  const pk = meta.pk;

  useEffect(() => {
    let refetch: number | undefined;
    let counts: number | undefined;
    const timers = new Set<number>();
    const later = (timer: number | undefined, run: () => void) => {
      window.clearTimeout(timer);
      return window.setTimeout(run, REFETCH_DELAY_MS);
    };
    const mark = (id: string) => {
      setHighlighted((current) => new Set(current).add(id));
      const timer = window.setTimeout(() => {
        timers.delete(timer);
        setHighlighted((current) => {
          const next = new Set(current);
          next.delete(id);
          return next;
        });
      }, HIGHLIGHT_MS);
      timers.add(timer);
    };

    const apply = (change: Change) => {
      const touchesView = Object.keys(change.diff).some((name) => watchedRef.current.has(name));
      if (change.op === "update" && !touchesView) {
        queryClient.setQueriesData<InfiniteData<Page>>({ queryKey: ["list", resource] }, (data) =>
          data && {
            ...data,
            pages: data.pages.map((page) => ({
              ...page,
              items: page.items.map((item) => {
                if (recordKey(metaRef.current, item) !== change.pk || item._version >= change.version) return item;
                const next: RecordBody = { ...item, _version: change.version };
                for (const [name, d] of Object.entries(change.diff)) if (name in item) next[name] = d.new;
                return next;
              }),
            })),
          },
        );
      } else {
        refetch = later(refetch, () => void queryClient.invalidateQueries({ queryKey: ["list", resource] }));
      }
      counts = later(counts, () => void queryClient.invalidateQueries({ queryKey: ["counts", resource] }));
      if (change.op !== "purge") mark(change.pk);
    };

    // Rows read before the list followed its topic (the first page the
    // page's first script asked for, or a list cached from a visit a moment
    // ago) may have missed a change made in between: read again once followed.
    const following = Date.now();
    let followed = false;
    const readBefore = (query: { state: { dataUpdatedAt: number } }) => query.state.dataUpdatedAt < following;
    const stop = live.subscribe(`r/${resource}`, (frame) => {
      if (frame.type === "change") apply(frame.change);
      else if (frame.type === "subscribed" && !followed) {
        followed = true;
        void queryClient.invalidateQueries({ queryKey: ["list", resource], predicate: readBefore });
        void queryClient.invalidateQueries({ queryKey: ["counts", resource], predicate: readBefore });
      } else if (frame.type === "resync") {
        void queryClient.invalidateQueries({ queryKey: ["list", resource] });
        void queryClient.invalidateQueries({ queryKey: ["counts", resource] });
      }
    });
    return () => {
      stop();
      window.clearTimeout(refetch);
      window.clearTimeout(counts);
      timers.forEach((t) => window.clearTimeout(t));
    };
  }, [resource, pk, queryClient]);

  return highlighted;
}
