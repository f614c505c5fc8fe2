// Names for relation fields: the targets of a resource's relation fields
// (from /api/meta), the labels of the keys shown on a page, and one key's
// label for a form. Each key is its own query ("relation-option", resource,
// key, display, id), filled by relations.ts's batched loader or by a picker's
// search results, so a key read once is not read again while fresh.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef } from "react";
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Change, FieldMeta, FieldValue, RecordBody } from "../api/models";
import { live } from "../live";
import { keyText, loadOption, optionQueryKey, relationTarget, type RelationOption, type RelationTarget } from "../relations";

/**
 * A label read is reused this long before a page asks again. Names shown stay
 * current meanwhile: {@link useLiveLabels} follows the related resources.
 */
export const LABEL_STALE_MS = 60_000;

/** A cached name after `change` to the record it names; undefined: read it again. */
export function labelAfter(
  target: RelationTarget,
  option: RelationOption | null,
  change: Pick<Change, "op" | "diff">,
): RelationOption | null | undefined {
  if (option === null || change.op === "purge" || change.op === "insert" || target.key in change.diff) return undefined;
  const next = { ...option };
  if (change.op === "delete") next.deleted = true;
  if (change.op === "restore") next.deleted = false;
  const named = change.diff[target.display];
  if (named) {
    const value = named.new;
    next.label = value === null || value === undefined || value === "" ? `#${option.id}` : String(value);
  }
  return next;
}

/**
 * Keeps the names a page shows current: each related resource it names
 * records of is followed on its topic (`r/{resource}`, one subscription for
 * the tab whatever the number of fields), and a change to a record whose name
 * is cached renames it in place, marks it deleted or restored, or (an insert
 * into a key that named nothing, a purge) has it read again.
 */
export function useLiveLabels(targets: RelationTarget[]): void {
  const queryClient = useQueryClient();
  const current = useRef(targets);
  useLayoutEffect(() => {
    current.current = targets;
  });
  const resources = [...new Set(targets.map((t) => t.resource))].sort().join(",");
  useEffect(() => {
    if (resources === "") return;
    const unsubscribe = resources.split(",").map((resource) =>
      live.subscribe(`r/${resource}`, (frame) => {
        if (frame.type === "subscribed" || frame.type === "resync") {
          // A rename committed between reading a name and following its resource would be
          // missed: once followed (again), the names of this resource are read once more.
          void queryClient.invalidateQueries({ queryKey: ["relation-option", resource] });
          return;
        }
        if (frame.type !== "change") return;
        for (const target of current.current) {
          if (target.resource !== resource) continue;
          const key = optionQueryKey(target, frame.change.pk);
          const cached = queryClient.getQueryData<RelationOption | null>(key);
          if (cached === undefined) continue;
          const next = labelAfter(target, cached, frame.change);
          if (next === undefined) void queryClient.invalidateQueries({ queryKey: key, exact: true });
          else queryClient.setQueryData(key, next);
        }
      }),
    );
    return () => unsubscribe.forEach((stop) => stop());
  }, [resources, queryClient]);
}

/** The relation target of each relation field the user may follow, by field name. */
export function useRelationTargets(fields: FieldMeta[]): Map<string, RelationTarget> {
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  return useMemo(() => {
    const out = new Map<string, RelationTarget>();
    for (const f of fields) {
      const target = relationTarget(f, meta.data);
      if (target) out.set(f.name, target);
    }
    return out;
  }, [fields, meta.data]);
}

/** One relation field's target: undefined while /api/meta loads, null when it cannot be picked. */
export function useRelationTarget(field: FieldMeta): RelationTarget | null | undefined {
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  return useMemo(() => (meta.data ? relationTarget(field, meta.data) : undefined), [field, meta.data]);
}

/**
 * The records named by the relation fields of the given rows, by field name
 * then key text: an option, null when no visible record has that key, and
 * absent while it loads. Only the keys on the loaded rows are read.
 */
export function useRelationLabels(
  targets: Map<string, RelationTarget>,
  rows: RecordBody[],
): Map<string, Map<string, RelationOption | null>> {
  const wanted = useMemo(() => {
    const seen = new Map<string, { target: RelationTarget; id: string; fields: string[] }>();
    for (const [name, target] of targets) {
      for (const row of rows) {
        const id = keyText(row[name]);
        if (id === "") continue;
        const key = JSON.stringify(optionQueryKey(target, id));
        const entry = seen.get(key) ?? { target, id, fields: [] };
        if (!entry.fields.includes(name)) entry.fields.push(name);
        seen.set(key, entry);
      }
    }
    return [...seen.values()];
  }, [targets, rows]);
  // `combine` re-runs only when a result or `wanted` changes, so the map keeps its identity between renders.
  const combine = useCallback(
    (results: { data?: RelationOption | null }[]) => {
      const out = new Map<string, Map<string, RelationOption | null>>();
      wanted.forEach(({ id, fields }, index) => {
        const option = results[index]?.data;
        if (option === undefined) return;
        for (const name of fields) {
          const byId = out.get(name) ?? new Map<string, RelationOption | null>();
          byId.set(id, option);
          out.set(name, byId);
        }
      });
      return out;
    },
    [wanted],
  );
  useLiveLabels(useMemo(() => [...targets.values()], [targets]));
  return useQueries({
    queries: wanted.map(({ target, id }) => ({
      queryKey: optionQueryKey(target, id),
      queryFn: () => loadOption(target, id),
      staleTime: LABEL_STALE_MS,
    })),
    combine,
  });
}

/** The record one relation value names (undefined while loading, null when none is visible). */
export function useRelationOption(target: RelationTarget | null | undefined, value: FieldValue): RelationOption | null | undefined {
  const id = keyText(value);
  useLiveLabels(useMemo(() => (target ? [target] : []), [target]));
  const query = useQuery({
    queryKey: target ? optionQueryKey(target, id) : ["relation-option", "none"],
    queryFn: () => (target ? loadOption(target, id) : Promise.resolve(null)),
    enabled: Boolean(target) && id !== "",
    staleTime: LABEL_STALE_MS,
  });
  if (id === "") return null;
  return query.data;
}
