// The rows of a resource that point at one record (a course's sessions, its
// course_instructors links): `GET /api/r/{resource}?filter[{field}][eq]={key}`,
// paged by cursor, kept current from the `r/{resource}` topic of the tab's
// websocket. That topic carries every change of the resource, so a change is
// taken as this record's when it is to a row shown, or when it sets the
// pointing field to this record (an insert, or a row moved here); inserts,
// deletes and moves refetch the rows, so rows appear and go as they do in the
// database. A refetch waits 150 ms, so a burst of changes is one request.
// Changed rows are marked for a moment, as in lists (hooks/useLiveList.ts).
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { Change, RecordBody, ResourceMeta } from "../../api/models";
import { live } from "../../live";
import { recordKey } from "../../recordKey";
import { keyText } from "../../relations";

export const PAGE_SIZE = 50;
const HIGHLIGHT_MS = 2500;
const REFETCH_DELAY_MS = 150;

/** The record the rows point at: its resource and its key, as sent and as text. */
export interface Parent {
  resource: string;
  label: string;
  key: RecordBody[string];
  keyText: string;
}

export function relatedQueryKey(resource: string, field: string, parentKey: string): unknown[] {
  return ["related", resource, field, parentKey];
}

export interface RelatedRows {
  rows: RecordBody[];
  /** Keys of the rows, as the change log writes them (recordKey). */
  keys: string[];
  total: number | null | undefined;
  loading: boolean;
  error: Error | null;
  hasMore: boolean;
  loadMore: () => void;
  loadingMore: boolean;
  /** Keys of rows changed a moment ago. */
  highlighted: Set<string>;
  /** Refetch now (after this page's own write). */
  refresh: () => void;
  /** Mark a row as changed (this page's own insert, before its frame arrives). */
  mark: (key: string) => void;
}

/**
 * `onChange` hears every change frame of the resource (the caller picks the
 * rows it holds edits for); `meta` gives the key columns and field types.
 */
export function useRelatedRows(
  resource: string,
  field: string,
  parent: Parent,
  meta: Pick<ResourceMeta, "pk" | "fields"> | undefined,
  onChange?: (change: Change) => void,
): RelatedRows {
  const queryClient = useQueryClient();
  const parentKey = parent.keyText;
  const queryKey = useMemo(() => relatedQueryKey(resource, field, parentKey), [resource, field, parentKey]);
  const pages = useInfiniteQuery({
    queryKey,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api.list(resource, {
        [`filter[${field}][eq]`]: parentKey,
        limit: String(PAGE_SIZE),
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    getNextPageParam: (last) => last.next_cursor,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.items) ?? [], [pages.data]);
  const keys = useMemo(
    () => (meta ? rows.map((row, index) => recordKey(meta, row) ?? `row-${index}`) : []),
    [meta, rows],
  );

  const [highlighted, setHighlighted] = useState<Set<string>>(new Set());
  const timers = useRef(new Set<number>());
  const mark = useCallback((key: string) => {
    setHighlighted((current) => new Set(current).add(key));
    const timer = window.setTimeout(() => {
      timers.current.delete(timer);
      setHighlighted((current) => {
        const next = new Set(current);
        next.delete(key);
        return next;
      });
    }, HIGHLIGHT_MS);
    timers.current.add(timer);
  }, []);
  useEffect(() => {
    const pending = timers.current;
    return () => pending.forEach((t) => window.clearTimeout(t));
  }, []);

  // The live handler reads the latest rows and callback through refs, not a stale closure.
  const shown = useRef<Set<string>>(new Set());
  const listener = useRef(onChange);
  useLayoutEffect(() => {
    shown.current = new Set(keys);
    listener.current = onChange;
  });

  useEffect(() => {
    let refetch: number | undefined;
    const later = () => {
      window.clearTimeout(refetch);
      refetch = window.setTimeout(() => void queryClient.invalidateQueries({ queryKey }), REFETCH_DELAY_MS);
    };
    const ours = (change: Change): boolean => {
      if (shown.current.has(change.pk)) return true;
      const pointer = change.diff[field];
      // An insert here, or a row moved here; a restore names no field, so it may be one of ours.
      return (pointer !== undefined && keyText(pointer.new) === parentKey) || change.op === "restore";
    };
    const stop = live.subscribe(`r/${resource}`, (frame) => {
      if (frame.type === "change") {
        listener.current?.(frame.change);
        if (!ours(frame.change)) return;
        later();
        if (frame.change.op !== "delete" && frame.change.op !== "purge") mark(frame.change.pk);
      } else if (frame.type === "resync") {
        void queryClient.invalidateQueries({ queryKey });
      }
    });
    return () => {
      stop();
      window.clearTimeout(refetch);
    };
  }, [resource, field, parentKey, queryKey, queryClient, mark]);

  const { fetchNextPage } = pages;
  return {
    rows,
    keys,
    total: pages.data?.pages[0]?.total,
    loading: pages.isLoading,
    error: pages.error,
    hasMore: pages.hasNextPage,
    loadMore: () => void fetchNextPage(),
    loadingMore: pages.isFetchingNextPage,
    highlighted,
    refresh: () => void queryClient.invalidateQueries({ queryKey }),
    mark,
  };
}
