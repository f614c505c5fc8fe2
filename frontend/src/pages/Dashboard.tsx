import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Change, ResourceMeta, WorkflowRun } from "../api/models";
import { useSession } from "../auth";
import { relativeTime } from "../format";
import { live } from "../live";
import { DraftItems } from "../components/drafts/DraftTable";
import { LiveFigures } from "../components/views/LiveFigures";
import { OPEN_STATUSES } from "../components/drafts/RecordDrafts";
import { usePageTitle } from "../pageTitle";
import { useRecentRecords } from "../recentRecords";

const RECENT = 15;
const MAX_FOLLOWED = 20;

function ActivityItem({ change, labels }: { change: Change; labels: Map<string, string> }) {
  const fields = Object.keys(change.diff).filter((f) => f !== "deleted_at");
  const verb = { insert: "created", update: "changed", delete: "deleted", restore: "restored", purge: "purged" }[change.op];
  return (
    <li data-change={change.id}>
      <strong>{change.actor?.name ?? "The database"}</strong> {verb}{" "}
      {change.op === "purge" ? (
        `${labels.get(change.resource) ?? change.resource} #${change.pk}`
      ) : (
        <Link to={`/r/${change.resource}/${encodeURIComponent(change.pk)}`}>
          {labels.get(change.resource) ?? change.resource} #{change.pk}
        </Link>
      )}
      {change.op === "update" && fields.length > 0 && <span className="muted"> ({fields.join(", ")})</span>}{" "}
      <time className="muted" dateTime={change.at} title={new Date(change.at).toLocaleString()}>
        {relativeTime(new Date(change.at))}
      </time>
    </li>
  );
}

/** The audit feed for auditors: the latest entries, reloaded as new ones arrive. */
function AuditActivity({ labels }: { labels: Map<string, string> }) {
  const queryClient = useQueryClient();
  const recent = useQuery({ queryKey: ["audit", "dashboard"], queryFn: () => api.audit({ limit: RECENT }) });
  useEffect(
    () =>
      live.subscribe("audit", (frame) => {
        if (frame.type === "change" || frame.type === "resync") {
          void queryClient.invalidateQueries({ queryKey: ["audit", "dashboard"] });
        }
      }),
    [queryClient],
  );
  if (recent.isLoading) return <p role="status">Loading…</p>;
  if (recent.error) return <p className="error">{recent.error.message}</p>;
  if (!recent.data?.items.length) return <p className="muted">No changes yet.</p>;
  return (
    <ul className="activity" data-testid="activity">
      {recent.data.items.map((c) => (
        <ActivityItem key={c.id} change={c} labels={labels} />
      ))}
    </ul>
  );
}

/** For everyone else: changes to the resources they may see, as they happen. */
function LiveActivity({ resources, labels }: { resources: ResourceMeta[]; labels: Map<string, string> }) {
  const [changes, setChanges] = useState<Change[]>([]);
  // A live view's rows moving is not something someone did (its cause is listed already).
  const names = resources
    .filter((r) => !r.derived)
    .slice(0, MAX_FOLLOWED)
    .map((r) => r.name)
    .join(",");
  useEffect(() => {
    const stops = names
      .split(",")
      .filter(Boolean)
      .map((name) =>
        live.subscribe(`r/${name}`, (frame) => {
          if (frame.type === "change") setChanges((all) => [frame.change, ...all].slice(0, RECENT));
        }),
      );
    return () => stops.forEach((stop) => stop());
  }, [names]);
  if (changes.length === 0) return <p className="muted">Changes to records you can see will appear here as they happen.</p>;
  return (
    <ul className="activity" data-testid="activity">
      {changes.map((c) => (
        <ActivityItem key={`${c.id}-${c.resource}`} change={c} labels={labels} />
      ))}
    </ul>
  );
}

/** Today as YYYY-MM-DD in the browser's time zone (due dates are dates). */
function today(): string {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
}

/** Open checklists, the soonest due first (overdue ones first of all), those with no date last. */
export function byDueDate(runs: WorkflowRun[]): WorkflowRun[] {
  return [...runs].sort((a, b) => {
    if (a.due_date === b.due_date) return a.id - b.id;
    if (a.due_date === null) return 1;
    if (b.due_date === null) return -1;
    return a.due_date < b.due_date ? -1 : 1;
  });
}

function RecentlyOpened({ labels }: { labels: Map<string, string> }) {
  const { user } = useSession();
  const recent = useRecentRecords(user.id);
  if (recent.length === 0) return <p className="muted">Records you open will be listed here.</p>;
  return (
    <ul className="activity" data-testid="recent-records">
      {recent.map((r) => (
        <li key={`${r.resource}/${r.pk}`}>
          <Link to={`/r/${r.resource}/${encodeURIComponent(r.pk)}`}>{r.name}</Link>{" "}
          <span className="muted">{labels.get(r.resource) ?? r.resource}</span>{" "}
          <time className="muted" dateTime={r.at} title={new Date(r.at).toLocaleString()}>
            {relativeTime(new Date(r.at))}
          </time>
        </li>
      ))}
    </ul>
  );
}

export function Dashboard() {
  const { user } = useSession();
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const resources = meta.data?.resources ?? [];
  const labels = new Map(resources.map((r) => [r.name, r.label]));
  const mayAudit = resources.some((r) => r.actions.includes("audit"));
  const mayReview = resources.some((r) => r.actions.includes("publish"));
  usePageTitle("Dashboard");
  const myDrafts = useQuery({
    queryKey: ["drafts", "dashboard", "mine"],
    queryFn: () => api.drafts({ author: "me", status: OPEN_STATUSES, limit: 10 }),
  });
  const queue = useQuery({
    queryKey: ["drafts", "dashboard", "queue"],
    enabled: mayReview,
    queryFn: () => api.drafts({ status: "submitted", limit: 10 }),
  });
  const myRuns = useQuery({
    queryKey: ["workflow-runs", "dashboard", "mine"],
    queryFn: () => api.workflowRuns({ mine: true, status: "open", limit: 50 }),
  });
  const due = today();
  return (
    <section>
      <h1>Welcome, {user.name}</h1>
      {meta.isLoading && <p role="status">Loading…</p>}
      {meta.error && <p className="error">{meta.error.message}</p>}
      {meta.isSuccess && resources.length === 0 && <p className="empty">You may not see any resources yet.</p>}
      <div className="dash">
        <section className="panel" aria-labelledby="recent-title" data-slot="recent-records">
          <h2 id="recent-title">Recently opened</h2>
          <RecentlyOpened labels={labels} />
        </section>
        <section className="panel" aria-labelledby="drafts-title" data-slot="my-drafts">
          <h2 id="drafts-title">
            <Link to="/drafts?author=me">My drafts</Link>
          </h2>
          <DraftItems drafts={myDrafts.data?.items} empty="You have no open drafts. Start one with “Save as draft” on a record." />
        </section>
        {mayReview && (
          <section className="panel" aria-labelledby="review-title" data-slot="review-queue">
            <h2 id="review-title">
              <Link to="/drafts?status=submitted">Review queue</Link>
            </h2>
            <DraftItems drafts={queue.data?.items} empty="Nothing is waiting for review." />
          </section>
        )}
        <section className="panel" aria-labelledby="runs-title" data-slot="my-workflow-runs">
          <h2 id="runs-title">
            <Link to="/workflow-runs?mine=true">My checklists</Link> <span className="muted small">(soonest due first)</span>
          </h2>
          {!myRuns.data ? (
            <p role="status">Loading…</p>
          ) : myRuns.data.items.length === 0 ? (
            <p className="muted">No open checklists of yours.</p>
          ) : (
            <ul className="activity">
              {byDueDate(myRuns.data.items)
                .slice(0, 10)
                .map((r) => (
                  <li key={r.id} className={r.due_date && r.due_date < due ? "overdue" : undefined}>
                    <Link to={`/workflow-runs/${r.id}`}>
                      {r.title}: {labels.get(r.subject.resource) ?? r.subject.resource} #{r.subject.pk}
                    </Link>{" "}
                    <progress max={r.progress.total} value={r.progress.done} aria-label={`${r.progress.done} of ${r.progress.total} done`} />{" "}
                    <span className="muted">
                      {r.progress.done}/{r.progress.total}
                    </span>
                    {r.due_date && (
                      <span className={r.due_date < due ? "due overdue" : "due muted"}>
                        {" "}
                        {r.due_date < due ? "overdue since" : "due"} <time dateTime={r.due_date}>{r.due_date}</time>
                      </span>
                    )}
                  </li>
                ))}
            </ul>
          )}
        </section>
        <LiveFigures resources={resources} />
        <section className="panel" aria-labelledby="activity-title">
          <h2 id="activity-title">Recent activity</h2>
          {meta.isSuccess &&
            (mayAudit ? <AuditActivity labels={labels} /> : <LiveActivity resources={resources} labels={labels} />)}
        </section>
      </div>
      <h2 className="section-title">Everything you can open</h2>
      <div className="cards">
        {resources.map((r) => (
          <Link key={r.name} to={`/r/${r.name}`} className="card">
            <strong>{r.label_plural}</strong>
            <span className="muted">{r.actions.join(" · ")}</span>
          </Link>
        ))}
      </div>
    </section>
  );
}
