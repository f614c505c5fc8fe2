// Records of related resources as (id, label) pairs, for relation filters
// and for showing a name instead of a bare id in list cells. Only fetched
// for resources the user may view, and only used when few enough to list
// in full (otherwise the filter takes an id).
import { useQueries } from "@tanstack/react-query";
import { api } from "../api/client";
import type { FieldMeta } from "../api/types";
import { recordKey } from "../recordKey";

const MAX_OPTIONS = 200;

export interface RelationOptions {
  options: { id: string; label: string }[];
  complete: boolean;
  byId: Map<string, string>;
}

async function load(resource: string, display: string): Promise<RelationOptions> {
  const meta = await api.describe(resource);
  const page = await api.list(resource, { limit: String(MAX_OPTIONS), sort: display });
  const options = page.items.map((item) => ({
    id: recordKey(meta, item) ?? "",
    label: String(item[display] ?? recordKey(meta, item) ?? ""),
  }));
  return { options, complete: page.next_cursor === null, byId: new Map(options.map((o) => [o.id, o.label])) };
}

/** Options per relation field name, for the related resources this user may view. */
export function useRelationOptions(fields: FieldMeta[], viewable: Set<string>): Map<string, RelationOptions> {
  const related = fields.filter((f) => f.relation && viewable.has(f.relation.resource));
  const results = useQueries({
    queries: related.map((f) => ({
      queryKey: ["relation-options", f.relation!.resource, f.relation!.display],
      queryFn: () => load(f.relation!.resource, f.relation!.display),
      staleTime: 60_000,
    })),
  });
  const out = new Map<string, RelationOptions>();
  related.forEach((f, i) => {
    const data = results[i]?.data;
    if (data) out.set(f.name, data);
  });
  return out;
}
