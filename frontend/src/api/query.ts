// Query strings for the API's declared query parameters (openapi.json).
import type { operations } from "./schema";

/** The query parameters an operation declares. */
export type QueryOf<K extends keyof operations> = NonNullable<operations[K]["parameters"]["query"]>;

/** A records list's query (GET /api/r/{resource}); its `filter` is a deepObject. */
export type RecordsQuery = QueryOf<"listRecords">;
export type RecordFilter = NonNullable<RecordsQuery["filter"]>;

/**
 * The query string of `query`: each member `name=value`; an object member as
 * a deepObject, to any depth (`filter[status][in]=open,closed`, which
 * openapi-fetch's own serializer, one level deep, cannot write). Undefined
 * and null members, and empty objects, are left out.
 */
export function serializeQuery(query: Record<string, unknown>): string {
  const parts: string[] = [];
  const add = (name: string, value: unknown): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      value.forEach((item) => add(name, item));
    } else if (typeof value === "object") {
      for (const [key, item] of Object.entries(value)) add(`${name}[${encodeURIComponent(key)}]`, item);
    } else {
      parts.push(`${name}=${encodeURIComponent(String(value))}`);
    }
  };
  for (const [name, value] of Object.entries(query)) add(encodeURIComponent(name), value);
  return parts.join("&");
}

const FILTER_KEY = /^filter\[([^\][]+)\](?:\[([^\][]+)\])?$/;

/**
 * A records query from the flat form the list's state writes (URL search
 * parameters such as `filter[title][icontains]=intro`, `sort`, `limit`): the
 * filters gathered into `filter`, `limit` a number. Anything else is a
 * mistake in the caller and throws, as the server would refuse it.
 */
export function recordsQuery(flat: Record<string, string>): RecordsQuery {
  const filter: RecordFilter = {};
  const query: RecordsQuery = {};
  for (const [name, value] of Object.entries(flat)) {
    const match = FILTER_KEY.exec(name);
    if (match) {
      const [, field, op] = match;
      const current = filter[field];
      if (op === undefined) filter[field] = value;
      else filter[field] = { ...(typeof current === "object" ? current : current === undefined ? {} : { eq: current }), [op]: value };
    } else if (name === "sort" || name === "q" || name === "cursor") {
      query[name] = value;
    } else if (name === "limit") {
      query.limit = Number(value);
    } else if (name === "deleted" && (value === "exclude" || value === "include" || value === "only")) {
      query.deleted = value;
    } else {
      throw new Error(`Not a records query parameter: ${name}=${value}`);
    }
  }
  return Object.keys(filter).length > 0 ? { ...query, filter } : query;
}
