// What the first screen needs, asked for at once and in parallel: who is
// signed in, the navigation's metadata, and, for a list or a record address,
// what that page reads first (and its script, if a chunk). Otherwise each
// would wait for the one before it (the user, then the page, then its
// metadata, then the list's saved settings) and a full load would cost four
// round trips before the list's own request rather than one. The requests
// are started by early.ts, index.html's first script, before the app's
// scripts have run; startLoading hands their answers to the query cache under
// the keys the pages read (a signed-out visitor's 401s are read again once
// signed in), and starts what early.ts did not.
import type { QueryClient } from "@tanstack/react-query";
import { api, readResponse, setCsrfToken } from "./api/client";
import type { Page, User } from "./api/models";
import type { EarlyRequests } from "./early";
import { loadDashboard, loadRecordPage, preload } from "./pageChunks";

type Me = { user: User; csrf_token?: string };

let firstMe: Promise<Me> | null = null;

/** The session check started with the page, the first time; a new one after that. */
export function me(): Promise<Me> {
  const started = firstMe ?? api.me();
  firstMe = null;
  return started;
}

/** The page an address opens, if it is a list or a record (`/r/{resource}`, `/r/{resource}/{pk}`). */
export function pageOf(pathname: string): { resource: string; pk?: string } | null {
  const parts = pathname.split("/");
  if (parts[1] !== "r" || !parts[2] || parts.length > 4) return null;
  try {
    const [resource, pk] = [decodeURIComponent(parts[2]), parts[3] ? decodeURIComponent(parts[3]) : undefined];
    return parts.length === 3 ? { resource } : pk ? { resource, pk } : null;
  } catch {
    return null; // an address no page decodes either
  }
}

/** `read` on the answer early.ts already asked for (once), else `fetch` anew. */
function taken<T>(early: EarlyRequests, name: Exclude<keyof EarlyRequests, "rows">, fetch: () => Promise<T>): () => Promise<T> {
  const started = early[name];
  delete early[name];
  return started ? () => readResponse<T>(started) : fetch;
}

function prefetcher(queryClient: QueryClient) {
  return (queryKey: unknown[], queryFn: () => Promise<unknown>) =>
    void queryClient.prefetchQuery({ queryKey, queryFn, retry: false });
}

/** Starts reading what the record page at `pathname` shows first (its script, metadata, record, history). */
export function prefetchRecord(queryClient: QueryClient, pathname: string, early: EarlyRequests = {}): void {
  const page = pageOf(pathname);
  if (page?.pk === undefined) return;
  const { resource, pk } = page;
  const prefetch = prefetcher(queryClient);
  preload(loadRecordPage);
  prefetch(["describe", resource, pk], taken(early, "describe", () => api.describe(resource, pk)));
  prefetch(["record", resource, pk], taken(early, "record", () => api.get(resource, pk)));
  prefetch(["history", resource, pk], taken(early, "history", () => api.history(resource, pk)));
}

export function startLoading(queryClient: QueryClient, pathname: string, early: EarlyRequests = {}): void {
  firstMe = taken(early, "me", api.me)().then((body) => {
    if (body.csrf_token) setCsrfToken(body.csrf_token);
    return body;
  });
  firstMe.catch(() => undefined); // handled by whoever takes it
  const prefetch = prefetcher(queryClient);
  prefetch(["meta"], taken(early, "meta", api.meta));
  const page = pageOf(pathname);
  // The dashboard is where signing in leads: its script is loaded while the form is filled in.
  if (pathname === "/" || pathname === "/login") preload(loadDashboard);
  if (page?.pk !== undefined) {
    prefetchRecord(queryClient, pathname, early);
  } else if (page) {
    const { resource } = page;
    prefetch(["describe", resource], taken(early, "describe", () => api.describe(resource)));
    prefetch(["view-pref", resource], taken(early, "viewPref", () => api.viewPref(resource)));
    prefetch(["views", resource], taken(early, "views", () => api.sharedViews(resource)));
    takeRows(queryClient, resource, early);
  }
}

/**
 * The list's first page early.ts asked for, under the key the list page
 * reads it by (unless the list asked for it itself first: then the list's
 * own request is the one it waits for, and this answer is not used).
 */
function takeRows(queryClient: QueryClient, resource: string, early: EarlyRequests): void {
  const rows = early.rows;
  delete early.rows;
  void rows?.then((found) => {
    if (!found) return;
    void queryClient.prefetchInfiniteQuery({
      queryKey: ["list", resource, found.sort, found.key],
      initialPageParam: null as string | null,
      queryFn: () => readResponse<Page>(found.response),
      retry: false,
    });
  });
}

/**
 * A press on a list row's link starts reading its record at once: the click
 * (the button's release) comes a tenth of a second later, and the record
 * page then finds its record read or on its way.
 */
export function prefetchRowLink(queryClient: QueryClient, target: EventTarget): void {
  const link = target instanceof Element ? target.closest<HTMLAnchorElement>("a.row-link") : null;
  if (link) prefetchRecord(queryClient, new URL(link.href).pathname);
}
