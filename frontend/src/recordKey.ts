// A record's key as the API writes it (API.md): a single key is its value; a
// composite key is its values in `pk` order, each percent-encoded as Python's
// quote(value, safe="") does, joined by ",". The same text is the record's
// topic (`r/{resource}/{key}`) and the `pk` of its changes, drafts and
// presence frames.
import type { ResourceMeta } from "./api/types";

/** The key columns in order; none for a view without a key (list-only). */
export function keyColumns(meta: Pick<ResourceMeta, "pk">): string[] {
  if (meta.pk === null) return [];
  return Array.isArray(meta.pk) ? meta.pk : [meta.pk];
}

function part(value: unknown): string {
  // encodeURIComponent leaves ! ' ( ) * alone; the server's encoding does not.
  return encodeURIComponent(String(value)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The record's key text, or null when its resource has no key. */
export function recordKey(meta: Pick<ResourceMeta, "pk">, row: Record<string, unknown>): string | null {
  const columns = keyColumns(meta);
  if (columns.length === 0) return null;
  if (columns.length === 1) return String(row[columns[0]]);
  return columns.map((name) => part(row[name])).join(",");
}
