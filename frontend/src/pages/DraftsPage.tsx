// Drafts you may see, filtered by status (the review queue is `submitted`)
// and author; kept current by the drafts topic (see DraftWatcher).
import { useSearchParams } from "react-router-dom";
import { useInfiniteQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { DRAFT_STATUSES } from "../api/models";
import { DraftSummary, StatusBadge } from "../components/drafts/DraftTable";
import { BatchBar } from "../components/io/BatchBar";
import { OPEN_STATUSES } from "../components/drafts/RecordDrafts";
import { relativeTime } from "../format";
import { usePageTitle } from "../pageTitle";

const FILTERS: { value: string; label: string }[] = [
  { value: OPEN_STATUSES, label: "Open (not published or discarded)" },
  { value: "submitted", label: "Review queue (submitted)" },
  ...DRAFT_STATUSES.filter((s) => s !== "submitted").map((s) => ({ value: s, label: s[0].toUpperCase() + s.slice(1) })),
  { value: "", label: "All" },
];

export function DraftsPage() {
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? OPEN_STATUSES;
  const mine = params.get("author") === "me";
  // The drafts one import staged (components/io/BatchBar.tsx).
  const batch = Number(params.get("batch")) || null;
  const query = { ...(status ? { status } : {}), ...(mine ? { author: "me" } : {}), ...(batch ? { batch } : {}) };
  usePageTitle(status === "submitted" ? "Review queue" : "Drafts");
  const drafts = useInfiniteQuery({
    queryKey: ["drafts", "list", query],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => api.drafts({ ...query, limit: 50, ...(pageParam ? { cursor: pageParam } : {}) }),
    getNextPageParam: (last) => last.next_cursor,
  });
  const items = drafts.data?.pages.flatMap((p) => p.items) ?? [];
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
        <h1>{status === "submitted" ? "Review queue" : "Drafts"}</h1>
        <span className="spacer" />
        <label className="inline-field">
          Status{" "}
          <select value={status} onChange={(e) => set("status", e.target.value)}>
            {FILTERS.map((f) => (
              <option key={f.label} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={mine} onChange={(e) => set("author", e.target.checked ? "me" : null)} /> Mine only
        </label>
      </div>
      {batch && (
        <BatchBar
          batch={batch}
          resource={items[0]?.resource}
          pending={drafts.hasNextPage || items.some((d) => d.status === "submitted" || d.status === "approved")}
        />
      )}
      {drafts.isLoading && <p role="status">Loading…</p>}
      {drafts.error && <p className="error">{drafts.error.message}</p>}
      {drafts.isSuccess && items.length === 0 && <p className="empty">No drafts here.</p>}
      {items.length > 0 && (
        <table className="grid" data-testid="drafts">
          <thead>
            <tr>
              <th>Draft</th>
              <th>Status</th>
              <th>Author</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id} data-draft={d.id}>
                <td>
                  <DraftSummary draft={d} />
                  {d.publish_error && <span className="pill pill-closed"> publish failed</span>}
                </td>
                <td>
                  <StatusBadge status={d.status} />
                  {d.publish_at && <span className="muted"> (publishes {new Date(d.publish_at).toLocaleString()})</span>}
                </td>
                <td>{d.author?.name ?? "—"}</td>
                <td>
                  <time dateTime={d.updated_at} title={new Date(d.updated_at).toLocaleString()}>
                    {relativeTime(new Date(d.updated_at))}
                  </time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {drafts.hasNextPage && (
        <button type="button" className="secondary" disabled={drafts.isFetchingNextPage} onClick={() => void drafts.fetchNextPage()}>
          Load more
        </button>
      )}
      <p className="muted">
        Drafts are started from a record's page with <em>Save as draft</em>.
      </p>
    </section>
  );
}
