import createClient from "openapi-fetch";
import type { paths } from "./schema";
import type {
  ApiProblem,
  AuditVerify,
  BulkOutcome,
  BulkRequest,
  Change,
  Counts,
  Draft,
  DraftBatchPublished,
  DraftDetail,
  DraftEvent,
  DraftTransition,
  ImportResult,
  Job,
  Meta,
  Page,
  RecordBody,
  ResourceMeta,
  SharedView,
  User,
  ViewConfig,
  ViewPref,
  WorkflowRun,
} from "./models";
import { type QueryOf, recordsQuery, serializeQuery } from "./query";

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

// A record's {pk} is its key text (recordKey.ts), sent encoded as a whole like
// any parameter: the server reads a composite key sent so (no bare ",") too.
// Object parameters (a records list's `filter`) are deepObjects, nested.
const client = createClient<paths>({ baseUrl: "", querySerializer: serializeQuery });

/** A record's fields to write (create, patch): whatever the resource has (RecordBody in models.ts). */
type RecordValues = Record<string, unknown>;

client.use({
  onRequest({ request }) {
    if (csrfToken && request.method !== "GET" && request.method !== "HEAD") {
      request.headers.set("X-CSRF-Token", csrfToken);
    }
    return request;
  },
});

function problemOf(response: Response, error: unknown): ProblemError {
  const problem = (error ?? {}) as Partial<ApiProblem>;
  return new ProblemError({
    type: problem.type ?? "about:blank",
    title: problem.title ?? response.statusText,
    status: response.status,
    detail: problem.detail ?? response.statusText,
    ...problem,
  } as ApiProblem);
}

async function unwrap<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw problemOf(response, error);
  return data as T;
}

/** A response fetched without the client (early.ts), read as the client reads one. */
export async function readResponse<T>(response: Promise<Response>): Promise<T> {
  const got = await response;
  const body: unknown = await got.json().catch(() => undefined);
  if (!got.ok) throw problemOf(got, body);
  return body as T;
}

/**
 * An import the server refused as a whole (422: invalid lines; 409: lines
 * changed since the preview): its problem, and the lines with what is wrong.
 */
export class ImportRefused extends ProblemError {
  constructor(
    problem: ApiProblem,
    public readonly result: ImportResult,
  ) {
    super(problem);
  }
}

/** An import's query: `key` (a unique field; the resource's key when left out), `dry_run`, `preview`. */
export type ImportQuery = QueryOf<"importRecords">;

/** A refused import's problem carries the lines (`rows`) and their `summary`, as a dry run's answer does. */
function importLines(problem: ApiProblem): ImportResult | null {
  const { rows, summary } = problem;
  if (!Array.isArray(rows) || typeof summary !== "object" || summary === null) return null;
  return { rows, summary, applied: false } as ImportResult;
}

const mergePatch = { "Content-Type": "application/merge-patch+json" };

export const api = {
  async login(username: string, password: string): Promise<{ user: User; csrf_token: string }> {
    const body = await unwrap<{ user: User; csrf_token: string }>(
      client.POST("/api/auth/login", { body: { username, password } }),
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
  /** A page of records; `query` in the flat form of the list's state (`filter[field][op]`, see recordsQuery). */
  list: (resource: string, query: Record<string, string>) =>
    unwrap<Page>(client.GET("/api/r/{resource}", { params: { path: { resource }, query: recordsQuery(query) } })),
  get: (resource: string, pk: string) =>
    unwrap<RecordBody>(client.GET("/api/r/{resource}/{pk}", { params: { path: { resource, pk } } })),
  create: (resource: string, values: RecordValues) =>
    unwrap<RecordBody>(client.POST("/api/r/{resource}", { params: { path: { resource } }, body: values })),
  /** Sends only the changed fields, merged against the version the editor started from. */
  patch: (resource: string, pk: string, changes: RecordValues, baseVersion: number) =>
    unwrap<RecordBody>(
      client.PATCH("/api/r/{resource}/{pk}", {
        params: { path: { resource, pk } },
        body: changes,
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
  /** Hard delete (the `purge` action); the change log keeps the record's last values. */
  purge: (resource: string, pk: string, version: number) =>
    unwrap<null>(
      client.DELETE("/api/r/{resource}/{pk}", {
        params: { path: { resource, pk }, query: { purge: true } },
        headers: { "If-Match": `"${version}"` },
      }),
    ),
  /** Runs a record action, based on the version the person saw (X-Base-Version). */
  runAction: (resource: string, pk: string, name: string, baseVersion: number) =>
    unwrap<RecordBody>(
      client.POST("/api/r/{resource}/{pk}/actions/{name}", {
        params: { path: { resource, pk, name } },
        headers: { "X-Base-Version": String(baseVersion) },
      }),
    ),
  history: (resource: string, pk: string, query: QueryOf<"recordHistory"> = {}) =>
    unwrap<{ items: Change[]; next_cursor: string | null }>(
      client.GET("/api/r/{resource}/{pk}/history", { params: { path: { resource, pk }, query: query } }),
    ),
  revert: (resource: string, pk: string, changeId: number, fields?: string[]) =>
    unwrap<RecordBody>(
      client.POST("/api/r/{resource}/{pk}/revert", {
        params: { path: { resource, pk } },
        body: (fields ? { change_id: changeId, fields } : { change_id: changeId }),
      }),
    ),
  viewPref: (resource: string) =>
    unwrap<ViewPref>(client.GET("/api/prefs/views/{resource}", { params: { path: { resource } } })),
  /** `keepalive`: the request outlives the page (a save made as the tab goes). */
  saveViewPref: (resource: string, config: ViewConfig, { keepalive = false } = {}) =>
    unwrap<ViewPref>(
      client.PUT("/api/prefs/views/{resource}", { params: { path: { resource } }, body: config, keepalive }),
    ),
  sharedViews: (resource: string) =>
    unwrap<{ items: SharedView[] }>(client.GET("/api/views/{resource}", { params: { path: { resource } } })),
  shareView: (resource: string, name: string, config: ViewConfig) =>
    unwrap<SharedView>(
      client.POST("/api/views/{resource}", { params: { path: { resource } }, body: { name, ...config } }),
    ),
  /** Replaces a shared view's name and settings (its creator, or a superuser). */
  updateSharedView: (resource: string, id: number, name: string, config: ViewConfig) =>
    unwrap<SharedView>(
      client.PUT("/api/views/{resource}/{view_id}", {
        params: { path: { resource, view_id: String(id) } },
        body: { name, ...config },
      }),
    ),
  deleteSharedView: (resource: string, id: number) =>
    unwrap<null>(
      client.DELETE("/api/views/{resource}/{view_id}", { params: { path: { resource, view_id: String(id) } } }),
    ),
  /**
   * Many records at once (update, delete, restore, purge), each row its own
   * change checked against `versions`: the result, or a job to follow
   * (`jobs/{id}`) for a long run.
   */
  async bulk(resource: string, body: BulkRequest): Promise<{ result: BulkOutcome } | { job: number }> {
    const { data, error, response } = await client.POST("/api/r/{resource}/bulk", { params: { path: { resource } }, body });
    if (response.status === 202 && data && "job" in data) return { job: data.job };
    return { result: await unwrap<BulkOutcome>(Promise.resolve({ data, error, response })) };
  },
  job: (id: number) => unwrap<Job>(client.GET("/api/jobs/{job_id}", { params: { path: { job_id: id } } })),
  /** Counts by the field `by`, of the records the list's flat `query` finds (see list). */
  counts: (resource: string, by: string, query: Record<string, string>) => {
    const { filter, q, deleted } = recordsQuery(query);
    return unwrap<Counts>(
      client.GET("/api/stats/{resource}", { params: { path: { resource }, query: { by, filter, q, deleted } } }),
    );
  },
  audit: (query: QueryOf<"listAudit">) =>
    unwrap<{ items: Change[]; next_cursor: string | null }>(client.GET("/api/audit", { params: { query } })),
  verifyAudit: () => unwrap<AuditVerify>(client.GET("/api/audit/verify")),

  // -- import (docs/frontend.md "Import") --
  /**
   * Sends the file (CSV text or an XLSX workbook) for a dry run (the preview)
   * or the apply. Not through the typed client: the body is the file's bytes
   * as they are, which its JSON-minded body types cannot say; the query and
   * the answer are the document's (ImportQuery, ImportResult).
   */
  async importFile(resource: string, file: Blob, contentType: string, query: ImportQuery): Promise<ImportResult> {
    const headers: Record<string, string> = { "Content-Type": contentType };
    if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
    const response = await fetch(`/api/r/${encodeURIComponent(resource)}/import?${serializeQuery(query)}`, {
      method: "POST",
      body: file,
      headers,
    });
    const body: unknown = await response.json().catch(() => null);
    if (response.ok) return body as ImportResult;
    const problem = {
      type: "about:blank",
      title: response.statusText,
      status: response.status,
      detail: response.statusText,
      ...(typeof body === "object" && body !== null ? body : {}),
    } as ApiProblem;
    const lines = importLines(problem);
    throw lines ? new ImportRefused(problem, lines) : new ProblemError(problem);
  },

  // -- drafts (docs/drafts.md) --
  createDraft: (resource: string, pk: string, data: RecordValues) =>
    unwrap<Draft>(client.POST("/api/r/{resource}/{pk}/drafts", { params: { path: { resource, pk } }, body: { data } })),
  createNewDraft: (resource: string, data: RecordValues) =>
    unwrap<Draft>(client.POST("/api/r/{resource}/drafts", { params: { path: { resource } }, body: { data } })),
  drafts: (query: QueryOf<"listDrafts">) =>
    unwrap<{ items: Draft[]; next_cursor: string | null }>(client.GET("/api/drafts", { params: { query } })),
  draft: (id: string) => unwrap<DraftDetail>(client.GET("/api/drafts/{draft_id}", { params: { path: { draft_id: id } } })),
  /** Merges fields into the draft (and drops `unset` ones), against the draft version the editor started from. */
  patchDraft: (id: string, data: RecordValues, unset: string[], baseVersion: number) =>
    unwrap<Draft>(
      client.PATCH("/api/drafts/{draft_id}", {
        params: { path: { draft_id: id } },
        body: unset.length > 0 ? { data, unset } : { data },
        headers: { "X-Base-Version": String(baseVersion) },
      }),
    ),
  draftPreview: (id: string) =>
    unwrap<RecordBody>(client.GET("/api/drafts/{draft_id}/preview", { params: { path: { draft_id: id } } })),
  draftComments: (id: string) =>
    unwrap<{ items: DraftEvent[] }>(client.GET("/api/drafts/{draft_id}/comments", { params: { path: { draft_id: id } } })),
  commentDraft: (id: string, comment: string) =>
    unwrap<{ items: DraftEvent[] }>(
      client.POST("/api/drafts/{draft_id}/comments", { params: { path: { draft_id: id } }, body: { comment } }),
    ),
  transitionDraft: (id: string, name: DraftTransition, comment: string) => {
    const options = { params: { path: { draft_id: id } }, body: (comment ? { comment } : {}) };
    const call = {
      submit: () => client.POST("/api/drafts/{draft_id}/submit", options),
      approve: () => client.POST("/api/drafts/{draft_id}/approve", options),
      reject: () => client.POST("/api/drafts/{draft_id}/reject", options),
      discard: () => client.POST("/api/drafts/{draft_id}/discard", options),
    }[name];
    return unwrap<Draft>(call());
  },
  /** Publish now, or schedule it with `publishAt` (an ISO date-time). */
  publishDraft: (id: string, comment: string, publishAt: string | null) =>
    unwrap<Draft>(
      client.POST("/api/drafts/{draft_id}/publish", {
        params: { path: { draft_id: id } },
        body: { ...(comment ? { comment } : {}), ...(publishAt ? { publish_at: publishAt } : {}) },
      }),
    ),
  /** Approves and publishes every pending draft of an import's batch, all or none. */
  publishDraftBatch: (batch: number) =>
    unwrap<DraftBatchPublished>(client.POST("/api/drafts/batches/{batch}/publish", { params: { path: { batch } } })),
  rebaseDraft: (id: string, resolutions: Record<string, "theirs" | "yours">) =>
    unwrap<Draft>(
      client.POST("/api/drafts/{draft_id}/rebase", { params: { path: { draft_id: id } }, body: { resolutions } }),
    ),

  // -- workflows --
  startWorkflow: (name: string, resource: string, pk: string) =>
    unwrap<WorkflowRun>(
      client.POST("/api/workflows/{name}/runs", { params: { path: { name } }, body: { subject: { resource, pk } } }),
    ),
  workflowRuns: (query: QueryOf<"listWorkflowRuns">) =>
    unwrap<{ items: WorkflowRun[]; next_cursor: string | null }>(client.GET("/api/workflow-runs", { params: { query } })),
  workflowRun: (id: string) =>
    unwrap<WorkflowRun>(client.GET("/api/workflow-runs/{run_id}", { params: { path: { run_id: id } } })),
  setStep: (id: string, key: string, done: boolean) =>
    unwrap<WorkflowRun>(
      done
        ? client.POST("/api/workflow-runs/{run_id}/steps/{key}/complete", { params: { path: { run_id: id, key } } })
        : client.POST("/api/workflow-runs/{run_id}/steps/{key}/reopen", { params: { path: { run_id: id, key } } }),
    ),
};
