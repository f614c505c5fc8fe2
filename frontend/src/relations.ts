// Records of a related resource, by name: the labels of the keys a page
// shows, and the records matching what a user types in a picker.
//
// A relation field holds the key of a record of `relation.resource` (the
// server only declares relations to a resource's single key column), and
// `relation.display` is the field that names it. Labels are read per key
// (`filter[key][in]=1,2,3`), never by loading "the first N" records, so a
// name shows whatever the size of the related table. Lookups made in the
// same tick are batched into one request per related resource: a list page
// of 50 rows with two relation columns costs two requests, not a hundred.
import { api } from "./api/client";
import type { FieldMeta, FieldValue, Meta, RecordBody, ResourceMeta } from "./api/models";

/** The server's limit on the values of one `in` filter (docs/api.md). */
const IN_LIMIT = 200;
/** Suggestions a picker shows for what is typed. */
export const SEARCH_LIMIT = 20;

/** Where a relation field points: the related resource, its key column and the field that names a record. */
export interface RelationTarget {
  resource: string;
  key: string;
  display: string;
  /** `deleted=include` is allowed (and needed, to name a soft-deleted record). */
  softDelete: boolean;
  /** How typed text is searched: `q`, a display-field filter, or not at all (an exact key only). */
  search: { kind: "q" } | { kind: "filter"; op: "icontains" | "contains" } | { kind: "none" };
  /** The key's filter takes `in` (else one request per key). */
  keyIn: boolean;
  /** The key is a number: typed digits also look the key up. */
  numericKey: boolean;
}

/** One record as a picker offers it: its key as the server sent it, its key text and its name. */
export interface RelationOption {
  value: FieldValue;
  id: string;
  label: string;
  deleted: boolean;
}

/**
 * The target of a relation field, from `/api/meta` (which lists only the
 * resources this user may view, with their fields). Null when there is no
 * relation, the meta is not loaded yet, or the related resource has no single
 * key column (a picker cannot address its records).
 */
export function relationTarget(field: FieldMeta, meta: Meta | undefined): RelationTarget | null {
  if (!field.relation || !meta) return null;
  const related = meta.resources.find((r) => r.name === field.relation!.resource);
  if (!related) return null;
  const key = singleKey(related);
  if (key === null) return null;
  const keyField = related.fields.find((f) => f.name === key);
  const displayField = related.fields.find((f) => f.name === field.relation!.display);
  const ops = displayField?.operators ?? [];
  const search: RelationTarget["search"] = related.searchable
    ? { kind: "q" }
    : ops.includes("icontains")
      ? { kind: "filter", op: "icontains" }
      : ops.includes("contains")
        ? { kind: "filter", op: "contains" }
        : { kind: "none" };
  return {
    resource: related.name,
    key,
    display: displayField ? displayField.name : key,
    softDelete: related.soft_delete,
    search,
    keyIn: keyField?.operators.includes("in") ?? false,
    numericKey: keyField?.type === "integer",
  };
}

function singleKey(meta: ResourceMeta): string | null {
  if (typeof meta.pk === "string") return meta.pk;
  if (Array.isArray(meta.pk) && meta.pk.length === 1) return meta.pk[0];
  return null;
}

/** The key text of a value held by a relation field ("" for none). */
export function keyText(value: FieldValue | undefined): string {
  return value === null || value === undefined ? "" : String(value);
}

function optionOf(target: RelationTarget, item: RecordBody): RelationOption {
  const raw = item[target.key] ?? null;
  const name = item[target.display];
  const id = keyText(raw);
  const label = name === null || name === undefined || name === "" ? `#${id}` : String(name);
  return { value: raw, id, label, deleted: Boolean(item._deleted_at) };
}

/** A record's name as lists and pickers show it; a deleted one says so. */
export function shownLabel(option: Pick<RelationOption, "label" | "deleted">): string {
  return option.deleted ? `${option.label} (deleted)` : option.label;
}

// -- labels by key, batched ---------------------------------------------------

interface Waiting {
  target: RelationTarget;
  ids: Map<string, ((option: RelationOption | null) => void)[]>;
  failed: ((error: unknown) => void)[];
}

const waiting = new Map<string, Waiting>();
let flushing: number | undefined;

function batchKey(target: RelationTarget): string {
  return JSON.stringify([target.resource, target.key, target.display]);
}

async function readKeys(target: RelationTarget, ids: string[]): Promise<Map<string, RelationOption>> {
  const found = new Map<string, RelationOption>();
  const deleted: Record<string, string> = target.softDelete ? { deleted: "include" } : {};
  // A key text holding a comma cannot be one of `in`'s comma-separated values: it is read alone.
  const listed = target.keyIn ? ids.filter((id) => !id.includes(",")) : [];
  const alone = ids.filter((id) => !listed.includes(id));
  const reads: Promise<void>[] = [];
  for (let start = 0; start < listed.length; start += IN_LIMIT) {
    const chunk = listed.slice(start, start + IN_LIMIT);
    reads.push(
      api
        .list(target.resource, { [`filter[${target.key}][in]`]: chunk.join(","), limit: String(chunk.length), ...deleted })
        .then((page) => page.items.forEach((item) => found.set(optionOf(target, item).id, optionOf(target, item)))),
    );
  }
  for (const id of alone) {
    reads.push(
      api
        .list(target.resource, { [`filter[${target.key}][eq]`]: id, limit: "1", ...deleted })
        .then((page) => page.items.forEach((item) => found.set(optionOf(target, item).id, optionOf(target, item)))),
    );
  }
  await Promise.all(reads);
  return found;
}

function flush() {
  flushing = undefined;
  const batches = [...waiting.values()];
  waiting.clear();
  for (const batch of batches) {
    readKeys(batch.target, [...batch.ids.keys()]).then(
      (found) => batch.ids.forEach((resolvers, id) => resolvers.forEach((resolve) => resolve(found.get(id) ?? null))),
      (error: unknown) => batch.failed.forEach((reject) => reject(error)),
    );
  }
}

/**
 * The record a key names, or null when there is none the user may see (a
 * dangling key, or a row outside the reader's scope). Calls made in the same
 * tick for one related resource share one request.
 */
export function loadOption(target: RelationTarget, id: string): Promise<RelationOption | null> {
  return new Promise((resolve, reject) => {
    const key = batchKey(target);
    const batch: Waiting = waiting.get(key) ?? { target, ids: new Map(), failed: [] };
    waiting.set(key, batch);
    batch.ids.set(id, [...(batch.ids.get(id) ?? []), resolve]);
    batch.failed.push(reject);
    flushing ??= window.setTimeout(flush, 0);
  });
}

/** The query key of one related record's option (shared by lists, forms and pickers). */
export function optionQueryKey(target: RelationTarget, id: string): unknown[] {
  return ["relation-option", target.resource, target.key, target.display, id];
}

// -- search -------------------------------------------------------------------

/**
 * Records whose name matches `text` (the resource's search, or a filter on
 * its display field), sorted by name; with no text, the first ones by name.
 * Digits typed for a numeric key also find the record with that key, first.
 */
export async function searchOptions(target: RelationTarget, text: string): Promise<RelationOption[]> {
  const typed = text.trim();
  const query: Record<string, string> = { limit: String(SEARCH_LIMIT), sort: target.display };
  if (typed && target.search.kind === "q") query.q = typed;
  if (typed && target.search.kind === "filter") query[`filter[${target.display}][${target.search.op}]`] = typed;
  const byName =
    typed && target.search.kind === "none" ? Promise.resolve([]) : api.list(target.resource, query).then((p) => p.items.map((i) => optionOf(target, i)));
  const byKey =
    typed && target.numericKey && /^\d+$/.test(typed)
      ? api.list(target.resource, { [`filter[${target.key}][eq]`]: typed, limit: "1" }).then((p) => p.items.map((i) => optionOf(target, i)))
      : Promise.resolve([]);
  const [named, keyed] = await Promise.all([byName, byKey]);
  return [...keyed, ...named.filter((o) => !keyed.some((k) => k.id === o.id))];
}
