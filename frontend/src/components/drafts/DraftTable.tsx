import { Link } from "react-router-dom";
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { Draft, FieldMeta } from "../../api/models";
import { relativeTime } from "../../format";

/** The resources' labels and fields, from /api/meta (already cached by the layout). */
export function useResourceLabels() {
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const byName = new Map((meta.data?.resources ?? []).map((r) => [r.name, r]));
  return {
    label: (resource: string) => byName.get(resource)?.label ?? resource,
    field: (resource: string, name: string): FieldMeta | undefined =>
      byName.get(resource)?.fields.find((f) => f.name === name),
  };
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`pill pill-status pill-${status}`} data-testid="draft-status">{status}</span>;
}

/** What a draft is about, as a short line: "Course #12 (title, description)". */
export function DraftSummary({ draft }: { draft: Draft }) {
  const { label, field } = useResourceLabels();
  const names = Object.keys(draft.data).map((n) => field(draft.resource, n)?.label ?? n);
  return (
    <>
      <Link to={`/drafts/${draft.id}`}>
        Draft #{draft.id}: {label(draft.resource)} {draft.pk === null ? "(new)" : `#${draft.pk}`}
      </Link>
      {names.length > 0 && <span className="muted"> ({names.join(", ")})</span>}
    </>
  );
}

/** A compact list of drafts (record page, dashboard). */
export function DraftItems({ drafts, empty }: { drafts: Draft[] | undefined; empty: string }) {
  if (!drafts) return <p role="status">Loading…</p>;
  if (drafts.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="activity">
      {drafts.map((d) => (
        <li key={d.id} data-draft={d.id}>
          <DraftSummary draft={d} /> <StatusBadge status={d.status} />{" "}
          <span className="muted">
            by {d.author?.name ?? "someone"},{" "}
            <time dateTime={d.updated_at} title={new Date(d.updated_at).toLocaleString()}>
              {relativeTime(new Date(d.updated_at))}
            </time>
          </span>
        </li>
      ))}
    </ul>
  );
}
