// A record's key as the API writes it (API.md): the key columns' values in
// `pk` order, each with "%" and "," escaped, joined by ",". The same text is
// the record's URL segment, its topic (`r/{resource}/{key}`), and the `pk`
// of its changes, drafts and presence frames.
import type { ResourceMeta } from "./api/types";

/** The key columns in order; none for a view without a key (list-only). */
export function keyColumns(meta: Pick<ResourceMeta, "pk">): string[] {
  if (meta.pk === null) return [];
  return Array.isArray(meta.pk) ? meta.pk : [meta.pk];
}

function part(value: unknown): string {
  return String(value).replace(/%/g, "%25").replace(/,/g, "%2C");
}

/** The record's key text, or null when its resource has no key. */
export function recordKey(meta: Pick<ResourceMeta, "pk">, row: Record<string, unknown>): string | null {
  const columns = keyColumns(meta);
  if (columns.length === 0) return null;
  return columns.map((name) => part(row[name])).join(",");
}
