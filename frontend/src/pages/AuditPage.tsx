import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../api/client";
import type { Change } from "../api/models";
import { type QueryOf, serializeQuery } from "../api/query";
import { display } from "../format";
import { live } from "../live";
import { usePageTitle } from "../pageTitle";

const OPS = ["insert", "update", "delete", "restore", "purge"] as const;
const SOURCES = ["api", "draft", "revert", "workflow", "action", "db"] as const;
const EMPTY = { resource: "", pk: "", actor: "", field: "", op: "", source: "", since: "", until: "", q: "" };
type Filters = typeof EMPTY;

/** The audit query of the filled-in filters (an empty one is no filter). */
function toParams(filters: Filters): QueryOf<"listAudit"> {
  const given = (value: string) => value.trim() || undefined;
  return {
    resource: given(filters.resource),
    pk: given(filters.pk),
    actor: given(filters.actor),
    field: given(filters.field),
    op: OPS.find((op) => op === filters.op),
    source: SOURCES.find((source) => source === filters.source),
    since: given(filters.since),
    until: given(filters.until),
    q: given(filters.q),
  };
}

/** Whether the chain check passed, how many entries it covered, and where it broke. */
function VerifyBadge() {
  const verify = useQuery({ queryKey: ["audit-verify"], queryFn: api.verifyAudit, staleTime: 60_000 });
  if (verify.isLoading) return <span className="verify muted" role="status">Verifying the chain…</span>;
  if (verify.error) return <span className="verify bad">Could not verify: {verify.error.message}</span>;
  const result = verify.data!;
  return result.ok ? (
    <span className="verify ok" data-testid="verify-badge" title="Every entry's hash matches its predecessor's">
      ✓ Chain verified · {result.checked.toLocaleString()} entries
    </span>
  ) : (
    <span className="verify bad" data-testid="verify-badge">
      ✗ Chain broken at entry #{result.first_bad} ({result.checked.toLocaleString()} checked)
    </span>
  );
}

/** Where a change's subject is shown: drafts and checklist runs have pages of their own. */
export function changeLink(change: Pick<Change, "resource" | "pk">): string {
  const pk = encodeURIComponent(change.pk);
  if (change.resource === "drafts") return `/drafts/${pk}`;
  if (change.resource === "workflow_runs") return `/workflow-runs/${pk}`;
  return `/r/${change.resource}/${pk}`;
}

function ChangeRow({ change }: { change: Change }) {
  return (
    <tr data-change={change.id}>
      <td>
        <time dateTime={change.at}>{new Date(change.at).toLocaleString()}</time>
      </td>
      <td>{change.actor?.name ?? <span className="muted">database ({change.source})</span>}</td>
      <td>
        {change.op === "purge" ? (
          `${change.resource} #${change.pk}`
        ) : (
          <Link to={changeLink(change)}>
            {change.resource} #{change.pk}
          </Link>
        )}
      </td>
      <td>{change.op}</td>
      <td>{change.source}</td>
      <td>v{change.version}</td>
      <td>
        <ul className="diff-list">
          {Object.entries(change.diff).map(([name, d]) => (
            <li key={name}>
              <strong>{name}</strong>: <span className="diff-old">{display(d.old)}</span> →{" "}
              <span className="diff-new">{display(d.new)}</span>
            </li>
          ))}
        </ul>
      </td>
    </tr>
  );
}

export function AuditPage() {
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const params = useMemo(() => toParams(filters), [filters]);
  const auditable = meta.data?.resources.filter((r) => r.actions.includes("audit")) ?? [];
  usePageTitle("Audit log");
  const pages = useInfiniteQuery({
    queryKey: ["audit", params],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => api.audit({ limit: 50, ...params, ...(pageParam ? { cursor: pageParam } : {}) }),
    getNextPageParam: (last) => last.next_cursor,
  });

  // New entries arrive over the websocket's audit feed; the first page is reloaded for them.
  useEffect(() => {
    let timer: number | undefined;
    const stop = live.subscribe("audit", (frame) => {
      if (frame.type !== "change" && frame.type !== "resync") return;
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        void queryClient.invalidateQueries({ queryKey: ["audit"] });
        void queryClient.invalidateQueries({ queryKey: ["audit-verify"] });
      }, 200);
    });
    return () => {
      stop();
      window.clearTimeout(timer);
    };
  }, [queryClient]);

  if (pages.error instanceof ProblemError && pages.error.status === 403) {
    return <p className="error">You may not read the audit log.</p>;
  }
  const items = pages.data?.pages.flatMap((p) => p.items) ?? [];
  const csv = `/api/audit.csv?${serializeQuery(params)}`;
  const field = (name: keyof Filters, label: string, type = "text") => (
    <label>
      {label}
      <input type={type} value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })} />
    </label>
  );
  const choice = (name: keyof Filters, label: string, options: readonly string[]) => (
    <label>
      {label}
      <select value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section>
      <div className="toolbar">
        <h1>Audit log</h1>
        <VerifyBadge />
        <span className="spacer" />
        <a href={csv} download data-testid="csv-link">
          Download CSV
        </a>
      </div>
      <form
        className="audit-filters"
        aria-label="Audit filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        {choice("resource", "Resource", auditable.map((r) => r.name))}
        {field("pk", "Record id")}
        {field("actor", "Who")}
        {field("field", "Field")}
        {choice("op", "Operation", OPS)}
        {choice("source", "Source", SOURCES)}
        {field("since", "Since", "date")}
        {field("until", "Until", "date")}
        {field("q", "Text in values")}
        <div className="actions">
          <button type="submit">Apply</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {pages.error && <p className="error">{pages.error.message}</p>}
      <div className="table-wrap">
        <table className="grid">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Record</th>
              <th>Operation</th>
              <th>Source</th>
              <th>Version</th>
              <th>Changes</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <ChangeRow key={c.id} change={c} />
            ))}
          </tbody>
        </table>
      </div>
      {pages.isLoading && <p role="status">Loading…</p>}
      {pages.isSuccess && items.length === 0 && <p className="empty">No change matches these filters.</p>}
      {pages.hasNextPage && (
        <button type="button" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          {pages.isFetchingNextPage ? "Loading…" : "Older changes"}
        </button>
      )}
    </section>
  );
}
