import createClient from "openapi-fetch";
import type { paths } from "./schema";
import type {
  ApiProblem,
  AuditVerify,
  Change,
  Counts,
  Meta,
  Page,
  RecordBody,
  ResourceMeta,
  SharedView,
  User,
  ViewConfig,
  ViewPref,
} from "./types";

/** An error response: the problem body and its status. */
export class ProblemError extends Error {
  constructor(public readonly problem: ApiProblem) {
    super(problem.detail || problem.title);
  }
  get status(): number {
    return this.problem.status;
  }
}

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const client = createClient<paths>({ baseUrl: "" });

client.use({
  onRequest({ request }) {
    if (csrfToken && request.method !== "GET" && request.method !== "HEAD") {
      request.headers.set("X-CSRF-Token", csrfToken);
    }
    return request;
  },
});

async function unwrap<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) {
    const problem = (error ?? {}) as Partial<ApiProblem>;
    throw new ProblemError({
      type: problem.type ?? "about:blank",
      title: problem.title ?? response.statusText,
      status: response.status,
      detail: problem.detail ?? response.statusText,
      ...problem,
    } as ApiProblem);
  }
  return data as T;
}

const mergePatch = { "Content-Type": "application/merge-patch+json" };

export const api = {
  async login(username: string, password: string): Promise<{ user: User; csrf_token: string }> {
    const body = await unwrap<{ user: User; csrf_token: string }>(
      client.POST("/api/auth/login", { body: { username, password } as never }),
    );
    setCsrfToken(body.csrf_token);
    return body;
  },
  async me(): Promise<{ user: User; csrf_token?: string }> {
    const body = await unwrap<{ user: User; csrf_token?: string }>(client.GET("/api/auth/me"));
    if (body.csrf_token) setCsrfToken(body.csrf_token);
    return body;
  },
  async logout(): Promise<void> {
    await unwrap(client.POST("/api/auth/logout"));
    setCsrfToken(null);
  },
  meta: () => unwrap<Meta>(client.GET("/api/meta")),
  describe: (resource: string, pk?: string) =>
    pk === undefined
      ? unwrap<ResourceMeta>(client.OPTIONS("/api/r/{resource}", { params: { path: { resource } } }))
      : unwrap<ResourceMeta>(client.OPTIONS("/api/r/{resource}/{pk}", { params: { path: { resource, pk } } })),
  list: (resource: string, query: Record<string, string>) =>
    unwrap<Page>(
      client.GET("/api/r/{resource}", { params: { path: { resource }, query: query as never } }),
    ),
  get: (resource: string, pk: string) =>
    unwrap<RecordBody>(client.GET("/api/r/{resource}/{pk}", { params: { path: { resource, pk } } })),
  create: (resource: string, values: Record<string, unknown>) =>
    unwrap<RecordBody>(
      client.POST("/api/r/{resource}", { params: { path: { resource } }, body: values as never }),
    ),
  /** Sends only the changed fields, merged against the version the editor started from. */
  patch: (resource: string, pk: string, changes: Record<string, unknown>, baseVersion: number) =>
    unwrap<RecordBody>(
      client.PATCH("/api/r/{resource}/{pk}", {
        params: { path: { resource, pk } },
        body: changes as never,
        headers: { ...mergePatch, "X-Base-Version": String(baseVersion) },
      }),
    ),
  remove: (resource: string, pk: string, version: number) =>
    unwrap<RecordBody>(
      client.DELETE("/api/r/{resource}/{pk}", {
        params: { path: { resource, pk } },
        headers: { "If-Match": `"${version}"` },
      }),
    ),
  restore: (resource: string, pk: string, version: number) =>
    unwrap<RecordBody>(
      client.POST("/api/r/{resource}/{pk}/restore", {
        params: { path: { resource, pk } },
        headers: { "If-Match": `"${version}"` },
      }),
    ),
  history: (resource: string, pk: string) =>
    unwrap<{ items: Change[]; next_cursor: string | null }>(
      client.GET("/api/r/{resource}/{pk}/history", { params: { path: { resource, pk } } }),
    ),
  revert: (resource: string, pk: string, changeId: number, fields?: string[]) =>
    unwrap<RecordBody>(
      client.POST("/api/r/{resource}/{pk}/revert", {
        params: { path: { resource, pk } },
        body: (fields ? { change_id: changeId, fields } : { change_id: changeId }) as never,
      }),
    ),
  viewPref: (resource: string) =>
    unwrap<ViewPref>(client.GET("/api/prefs/views/{resource}", { params: { path: { resource } } })),
  saveViewPref: (resource: string, config: ViewConfig) =>
    unwrap<ViewPref>(
      client.PUT("/api/prefs/views/{resource}", { params: { path: { resource } }, body: config as never }),
    ),
  sharedViews: (resource: string) =>
    unwrap<{ items: SharedView[] }>(client.GET("/api/views/{resource}", { params: { path: { resource } } })),
  shareView: (resource: string, name: string, config: ViewConfig) =>
    unwrap<SharedView>(
      client.POST("/api/views/{resource}", { params: { path: { resource } }, body: { name, ...config } as never }),
    ),
  deleteSharedView: (resource: string, id: number) =>
    unwrap<null>(
      client.DELETE("/api/views/{resource}/{view_id}", { params: { path: { resource, view_id: String(id) } } }),
    ),
  counts: (resource: string, query: Record<string, string>) =>
    unwrap<Counts>(client.GET("/api/stats/{resource}", { params: { path: { resource }, query: query as never } })),
  audit: (query: Record<string, string>) =>
    unwrap<{ items: Change[]; next_cursor: string | null }>(
      client.GET("/api/audit", { params: { query: query as never } }),
    ),
  verifyAudit: () => unwrap<AuditVerify>(client.GET("/api/audit/verify")),
};
