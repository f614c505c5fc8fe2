import { useState } from "react";
import { api, ProblemError } from "../api/client";
import type { Change, FieldMeta, RecordBody } from "../api/models";
import { display } from "../format";
import { useToast } from "../toasts";

interface Props {
  resource: string;
  pk: string;
  changes: Change[] | undefined;
  loading: boolean;
  fields: FieldMeta[];
  canRevert: boolean;
  onReverted: (record: RecordBody) => void;
}

const VERBS: Record<Change["op"], string> = {
  insert: "created",
  update: "changed",
  delete: "deleted",
  restore: "restored",
  purge: "purged",
};

/**
 * A record's changes, newest first, field by field. Reverting puts fields
 * back to their value before that change, as a new change of its own
 * (`source: "revert"`), so nothing in the history is ever rewritten.
 */
export function HistoryPanel({ resource, pk, changes, loading, fields, canRevert, onReverted }: Props) {
  const toast = useToast();
  const [busy, setBusy] = useState<string | null>(null);
  const label = (name: string) => fields.find((f) => f.name === name)?.label ?? name;

  async function revert(change: Change, only?: string) {
    setBusy(`${change.id}:${only ?? "*"}`);
    try {
      const record = await api.revert(resource, pk, change.id, only ? [only] : undefined);
      onReverted(record);
      toast(only ? `Reverted ${label(only)}.` : `Reverted the change of version ${change.version}.`, { tone: "success" });
    } catch (e) {
      toast(e instanceof ProblemError ? e.problem.detail : String(e), { tone: "error" });
    } finally {
      setBusy(null);
    }
  }

  if (loading) return <p role="status">Loading history…</p>;
  if (!changes?.length) return <p className="muted">No changes recorded.</p>;
  return (
    <ol className="history">
      {changes.map((c) => {
        const diff = Object.entries(c.diff).filter(([name]) => name !== "deleted_at");
        const revertible = canRevert && c.op === "update" && diff.length > 0;
        return (
          <li key={c.id} data-change={c.id} data-version={c.version}>
            <div className="change-head">
              <strong>{c.actor?.name ?? `The database (${c.source})`}</strong>
              <span>
                {VERBS[c.op]} → version {c.version}
              </span>
              {c.source !== "api" && <span className="pill">{c.source}</span>}
              <time className="muted" dateTime={c.at}>
                {new Date(c.at).toLocaleString()}
              </time>
              {revertible && diff.length > 1 && (
                <button type="button" className="secondary" disabled={busy !== null} onClick={() => void revert(c)}>
                  Revert this change
                </button>
              )}
            </div>
            {diff.length > 0 && (
              <ul>
                {diff.map(([name, d]) => (
                  <li key={name} data-field={name}>
                    <strong>{label(name)}</strong>
                    {c.op === "insert" ? (
                      <span className="diff-new">{display(d.new)}</span>
                    ) : (
                      <>
                        <span className="diff-old">{display(d.old)}</span> → <span className="diff-new">{display(d.new)}</span>
                      </>
                    )}
                    {revertible && (
                      <button type="button" className="link" disabled={busy !== null} onClick={() => void revert(c, name)}>
                        Revert<span className="sr-only"> {label(name)} to “{display(d.old)}”</span>
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ol>
  );
}
