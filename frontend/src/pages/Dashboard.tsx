import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Change, ResourceMeta } from "../api/types";
import { useSession } from "../auth";
import { relativeTime } from "../format";
import { live } from "../live";

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
        <Link to={`/r/${change.resource}/${change.pk}`}>
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
  const recent = useQuery({ queryKey: ["audit", "dashboard"], queryFn: () => api.audit({ limit: String(RECENT) }) });
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
  const names = resources.slice(0, MAX_FOLLOWED).map((r) => r.name).join(",");
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

export function Dashboard() {
  const { user } = useSession();
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const resources = meta.data?.resources ?? [];
  const labels = new Map(resources.map((r) => [r.name, r.label]));
  const mayAudit = resources.some((r) => r.actions.includes("audit"));
  return (
    <section>
      <h1>Welcome, {user.name}</h1>
      {meta.isLoading && <p role="status">Loading…</p>}
      {meta.error && <p className="error">{meta.error.message}</p>}
      {meta.isSuccess && resources.length === 0 && <p className="empty">You may not see any resources yet.</p>}
      <div className="cards">
        {resources.map((r) => (
          <Link key={r.name} to={`/r/${r.name}`} className="card">
            <strong>{r.label_plural}</strong>
            <span className="muted">{r.actions.join(" · ")}</span>
          </Link>
        ))}
      </div>
      <div className="dash">
        <section className="panel" aria-labelledby="activity-title">
          <h2 id="activity-title">Recent activity</h2>
          {meta.isSuccess &&
            (mayAudit ? <AuditActivity labels={labels} /> : <LiveActivity resources={resources} labels={labels} />)}
        </section>
        {/* SLOT (drafts): "My drafts" — drafts this user authored, from GET /api/drafts?author=me. */}
        <section className="panel slot" aria-labelledby="drafts-title" data-slot="my-drafts">
          <h2 id="drafts-title">My drafts</h2>
          <p className="muted">Drafts are not available here yet.</p>
        </section>
        {/* SLOT (drafts): "Review queue" — submitted drafts this user may approve or publish. */}
        <section className="panel slot" aria-labelledby="review-title" data-slot="review-queue">
          <h2 id="review-title">Review queue</h2>
          <p className="muted">Reviews are not available here yet.</p>
        </section>
        {/* SLOT (workflows): "My workflow runs" — from GET /api/workflow-runs?mine=true. */}
        <section className="panel slot" aria-labelledby="runs-title" data-slot="my-workflow-runs">
          <h2 id="runs-title">My workflow runs</h2>
          <p className="muted">Workflow runs are not available here yet.</p>
        </section>
      </div>
    </section>
  );
}
