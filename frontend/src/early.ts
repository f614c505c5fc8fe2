// The first script of the page (index.html names it before the app's): a
// few lines, so it runs as soon as the page is parsed, while the app's own
// scripts (React and the rest) are still being read and run. It asks at once
// for what the first screen needs: who is signed in, the navigation's
// metadata, and for a list or a record address what that page reads first
// (the same addresses as startup.ts's pageOf). startup.ts hands the answers
// to the app's queries; anything it does not take is simply not used.
//
// A list's rows are asked for too, as soon as its metadata and the user's
// saved settings are in (or at once from the address's own list state):
// the same query the list page makes (listState.ts's listQuery), so by the
// time React has rendered the list its first page is usually already here.
// (What it imports for that is one small chunk of its own: vite.config.ts.)
import { recordsQuery, serializeQuery } from "./api/query";
import { firstPageQuery, hasListState, listQuery, parseListState, type ListState } from "./listState";

type Early = "me" | "meta" | "describe" | "viewPref" | "views" | "record" | "history";

/** A list's first page, asked for early: the query it answers (listState.ts's listQuery) and the answer. */
export interface EarlyRows {
  sort: string;
  key: string;
  response: Promise<Response>;
}

/** The requests started for the page's first screen, by what they read. */
export type EarlyRequests = Partial<Record<Early, Promise<Response>>> & { rows?: Promise<EarlyRows | null> };

declare global {
  interface Window {
    collabadminEarly?: EarlyRequests;
  }
}

type ListMeta = { default_sort: string[]; soft_delete: boolean };

/**
 * A successful answer's body, read from a copy (the app reads the answer
 * itself); null otherwise. The copy is made as the answer arrives, before
 * the app can have read it: call this right after the request is made.
 */
async function peek<T>(response: Promise<Response>): Promise<T | null> {
  const copy = response.then((got) => got.clone());
  try {
    const got = await copy;
    return got.ok ? ((await got.json()) as T) : null;
  } catch {
    return null;
  }
}

export function startEarly(pathname: string, search = ""): EarlyRequests {
  const get = (path: string, method = "GET") => {
    const response = fetch(path, { method, credentials: "same-origin", headers: { Accept: "application/json" } });
    response.catch(() => undefined); // read, and a failure handled, by the app
    return response;
  };
  const started: EarlyRequests = { me: get("/api/auth/me"), meta: get("/api/meta") };
  const [, r, resource, pk, ...rest] = pathname.split("/");
  if (r !== "r" || !resource || rest.length > 0) return started;
  if (pk === undefined) {
    const describe = (started.describe = get(`/api/r/${resource}`, "OPTIONS"));
    const viewPref = (started.viewPref = get(`/api/prefs/views/${resource}`));
    started.views = get(`/api/views/${resource}`);
    started.rows = firstRows(resource, new URLSearchParams(search), peek(describe), peek(viewPref), get);
    started.rows.catch(() => undefined);
  } else if (pk) {
    const record = `/api/r/${resource}/${pk}`;
    started.describe = get(record, "OPTIONS");
    started.record = get(record);
    started.history = get(`${record}/history`);
  }
  return started;
}

/**
 * The list's first page, once the state it shows is known: the address's
 * list state, else the user's saved sort and filters. An address naming
 * only a shared view (`?view=3`) shows that view's settings, read later by
 * the app: nothing is asked for then, nor when the metadata or settings
 * cannot be read (signed out, a resource the user may not read).
 */
async function firstRows(
  resource: string,
  params: URLSearchParams,
  describe: Promise<ListMeta | null>,
  viewPref: Promise<Pick<ListState, "sort" | "filters"> | null>,
  get: (path: string) => Promise<Response>,
): Promise<EarlyRows | null> {
  const named = hasListState(params);
  if (named && [...params.keys()].every((k) => k === "view")) return null;
  const [meta, saved] = await Promise.all([describe, named ? null : viewPref]);
  if (!meta || (!named && !saved)) return null;
  const state: ListState = named
    ? parseListState(params)
    : { sort: saved!.sort, filters: saved!.filters, q: "", deleted: false, view: "" };
  const query = listQuery(state, meta);
  const path = `/api/r/${resource}?${serializeQuery(recordsQuery(firstPageQuery(query)))}`;
  return { sort: query.sort, key: query.key, response: get(path) };
}
