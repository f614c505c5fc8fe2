import { QueryClient, type InfiniteData } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Page } from "./api/models";
import { startEarly } from "./early";
import { startLoading } from "./startup";

function requested(pathname: string): string[] {
  const fetch = vi.fn((url: string, init: RequestInit) => Promise.resolve(new Response(`${init.method} ${url}`)));
  vi.stubGlobal("fetch", fetch);
  startEarly(pathname);
  return fetch.mock.calls.map(([url, init]) => `${init.method} ${url}`);
}

afterEach(() => vi.unstubAllGlobals());

describe("startEarly", () => {
  it("asks for the user and the metadata on any page", () => {
    expect(requested("/drafts/3")).toEqual(["GET /api/auth/me", "GET /api/meta"]);
    expect(requested("/r/courses/records/new")).toEqual(["GET /api/auth/me", "GET /api/meta"]);
  });

  it("asks for what a list reads first", () => {
    expect(requested("/r/courses")).toEqual([
      "GET /api/auth/me",
      "GET /api/meta",
      "OPTIONS /api/r/courses",
      "GET /api/prefs/views/courses",
      "GET /api/views/courses",
    ]);
  });

  it("asks for what a record reads first, its key as the address spells it", () => {
    expect(requested("/r/film_actor/1%2C23")).toEqual([
      "GET /api/auth/me",
      "GET /api/meta",
      "OPTIONS /api/r/film_actor/1%2C23",
      "GET /api/r/film_actor/1%2C23",
      "GET /api/r/film_actor/1%2C23/history",
    ]);
  });
});

// -- a list's rows -------------------------------------------------------------

const META = { default_sort: ["title"], soft_delete: true };
const SAVED = { columns: [], sort: "-start_date", filters: [{ field: "status", op: "eq", value: "open" }] };
const PAGE: Page = { items: [{ id: 1, title: "Early", _version: 1 }], next_cursor: null, total: 1 } as unknown as Page;

/** A server answering the list's first requests (or refusing them with `status`); the rows' URLs asked for. */
function server(status = 200): string[] {
  const rows: string[] = [];
  const answer = (url: string, init?: RequestInit): Response => {
    const path = new URL(url, "http://here").pathname;
    if (status !== 200) return new Response('{"status":401,"title":"Unauthorized"}', { status });
    if (init?.method === "OPTIONS") return Response.json(META);
    if (path.startsWith("/api/prefs/views/")) return Response.json(SAVED);
    if (path === "/api/r/courses") {
      rows.push(url);
      return Response.json(PAGE);
    }
    return Response.json({ items: [] });
  };
  vi.stubGlobal("fetch", vi.fn((input: RequestInfo | URL, init?: RequestInit) =>
    Promise.resolve(answer(input instanceof Request ? input.url : String(input), init ?? (input instanceof Request ? { method: input.method } : undefined))),
  ));
  return rows;
}

describe("a list's first page, asked for early", () => {
  it("follows the saved sort and filters, with the list page's own query", async () => {
    const rows = server();
    const found = await startEarly("/r/courses").rows;
    expect(found).toMatchObject({ sort: "-start_date", key: JSON.stringify({ "filter[status][eq]": "open" }) });
    // What the list page's own request (api.list) asks for, to the letter.
    expect(rows).toEqual(["/api/r/courses?limit=50&sort=-start_date&filter[status][eq]=open"]);
  });

  it("follows the address's own list state, and the resource's default sort when it names none", async () => {
    const rows = server();
    const found = await startEarly("/r/courses", "?filter[title][icontains]=a%26b&q=intro&deleted=only").rows;
    expect(found?.sort).toBe("title");
    expect(rows).toEqual(["/api/r/courses?limit=50&q=intro&deleted=only&sort=title&filter[title][icontains]=a%26b"]);
  });

  it("asks for nothing for a bare shared view, or when the metadata or settings cannot be read", async () => {
    let rows = server();
    expect(await startEarly("/r/courses", "?view=3").rows).toBeNull();
    expect(rows).toEqual([]);
    rows = server(401);
    expect(await startEarly("/r/courses").rows).toBeNull();
    expect(rows).toEqual([]);
  });

  it("is handed to the list's query under the key the list page reads, the app reading the same answers", async () => {
    const rows = server();
    const early = startEarly("/r/courses");
    const client = new QueryClient();
    const rowsOf = early.rows;
    startLoading(client, "/r/courses", early); // takes the metadata and settings as they arrive, too
    const found = await rowsOf;
    const key = ["list", "courses", found!.sort, found!.key];
    await vi.waitFor(() => expect(client.getQueryData<InfiniteData<Page>>(key)?.pages).toEqual([PAGE]));
    expect(client.getQueryData(["describe", "courses"])).toEqual(META);
    expect(client.getQueryData(["view-pref", "courses"])).toEqual(SAVED);
    expect(rows).toHaveLength(1);
  });
});
