// A record's key as the API writes it (API.md): a single key is its value; a
// composite key is its values in `pk` order, each percent-encoded as Python's
// quote(value, safe="") does, joined by ",". The same text is the record's
// topic (`r/{resource}/{key}`) and the `pk` of its changes, drafts and
// presence frames.
//
// A value's text is PostgreSQL's JSON text of it, which is what the change
// log holds: dates and times differ from the bodies' encoding, so a key of a
// `datetime` or `time` field is rewritten when the fields are known
// (fractional seconds without trailing zeros, UTC as +00:00, a time's
// offset without zero minutes).
import type { FieldMeta, ResourceMeta } from "./api/models";

type KeyMeta = Pick<ResourceMeta, "pk"> & { fields?: Pick<FieldMeta, "name" | "type">[] };

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

function trimFraction(text: string): string {
  return text.replace(/\.(\d*?)0+(?=$|[^\d])/, (_, kept: string) => (kept ? `.${kept}` : ""));
}

/** A key value as the change log writes it. */
export function keyValueText(value: unknown, type?: FieldMeta["type"]): string {
  const text = String(value);
  if (typeof value !== "string") return text;
  if (type === "datetime") return trimFraction(text).replace(/Z$/, "+00:00");
  if (type === "time") return trimFraction(text).replace(/([+-]\d{2}):00$/, "$1");
  return text;
}

/** The record's key text, or null when its resource has no key. */
export function recordKey(meta: KeyMeta, row: Record<string, unknown>): string | null {
  const columns = keyColumns(meta);
  if (columns.length === 0) return null;
  const typeOf = (name: string) => meta.fields?.find((f) => f.name === name)?.type;
  const texts = columns.map((name) => keyValueText(row[name], typeOf(name)));
  if (texts.length === 1) return texts[0];
  return texts.map(part).join(",");
}
