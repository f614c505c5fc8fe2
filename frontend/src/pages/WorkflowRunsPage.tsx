// Workflow runs you may see: by status, and "mine" (started by or assigned to you).
import { Link, useSearchParams } from "react-router-dom";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { relativeTime } from "../format";
import { usePageTitle } from "../pageTitle";

export function WorkflowRunsPage() {
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "open";
  const mine = params.get("mine") === "true";
  const query = { ...(status ? { status } : {}), ...(mine ? { mine: true } : {}) };
  usePageTitle("Checklists");
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const runs = useInfiniteQuery({
    queryKey: ["workflow-runs", "list", query],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => api.workflowRuns({ ...query, limit: 50, ...(pageParam ? { cursor: pageParam } : {}) }),
    getNextPageParam: (last) => last.next_cursor,
  });
  const items = runs.data?.pages.flatMap((p) => p.items) ?? [];
  const label = (resource: string) => meta.data?.resources.find((r) => r.name === resource)?.label ?? resource;
  const set = (name: string, value: string | null) =>
    setParams((current) => {
      const next = new URLSearchParams(current);
      if (value === null) next.delete(name);
      else next.set(name, value);
      return next;
    });

  return (
    <section>
      <div className="toolbar">
        <h1>Checklists</h1>
        <span className="spacer" />
        <label className="inline-field">
          Status{" "}
          <select value={status} onChange={(e) => set("status", e.target.value)}>
            <option value="open">Open</option>
            <option value="done">Done</option>
            <option value="cancelled">Cancelled</option>
            <option value="">All</option>
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={mine} onChange={(e) => set("mine", e.target.checked ? "true" : null)} /> Mine only
        </label>
      </div>
      {runs.isLoading && <p role="status">Loading…</p>}
      {runs.error && <p className="error">{runs.error.message}</p>}
      {runs.isSuccess && items.length === 0 && (
        <p className="empty">No checklists here. Start one from a record's page (e.g. a course's “Launch a course”).</p>
      )}
      {items.length > 0 && (
        <table className="grid" data-testid="workflow-runs">
          <thead>
            <tr>
              <th>Checklist</th>
              <th>For</th>
              <th>Progress</th>
              <th>Status</th>
              <th>Started by</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id} data-run={r.id}>
                <td>
                  <Link to={`/workflow-runs/${r.id}`}>
                    {r.title} #{r.id}
                  </Link>
                </td>
                <td>
                  <Link to={`/r/${r.subject.resource}/${encodeURIComponent(r.subject.pk)}`}>
                    {label(r.subject.resource)} #{r.subject.pk}
                  </Link>
                </td>
                <td>
                  <progress max={r.progress.total} value={r.progress.done} aria-label={`${r.progress.done} of ${r.progress.total} done`} />{" "}
                  {r.progress.done}/{r.progress.total}
                </td>
                <td>
                  <span className={`pill pill-status pill-run-${r.status}`}>{r.status}</span>
                </td>
                <td>{r.started_by?.name ?? "—"}</td>
                <td>{relativeTime(new Date(r.updated_at))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs.hasNextPage && (
        <button type="button" className="secondary" disabled={runs.isFetchingNextPage} onClick={() => void runs.fetchNextPage()}>
          Load more
        </button>
      )}
    </section>
  );
}
