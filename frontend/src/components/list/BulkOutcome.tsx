import { useState } from "react";
import type { BulkOutcome, BulkRowConflict, ResourceMeta } from "../../api/models";
import { display } from "../../format";
import { Dialog } from "../Dialog";
import { reasonOf } from "../FormProblems";
import { patchWithout, settle, type FullOutcome } from "./bulk";

interface Props {
  meta: ResourceMeta;
  outcome: FullOutcome;
  /** Names of the rows as seen (a key without one is shown as is). */
  names: Record<string, string>;
  /** The fields the edit set (null: not an edit). */
  patch: Record<string, unknown> | null;
  /** What was done ("update", "delete", an action's label). */
  op: string;
  onChange: (outcome: FullOutcome) => void;
  /** Send one row again, based on `version`, with `patch` (an edit) — "keep mine". */
  resend: (pk: string, version: number, patch: Record<string, unknown> | null) => Promise<BulkOutcome | { skipped: string }>;
  onClose: () => void;
}

const GROUPS = [
  { key: "done", title: "Done" },
  { key: "unchanged", title: "Unchanged (already so)" },
  { key: "theirs", title: "Left as someone else changed them" },
  { key: "forbidden", title: "Not yours to change" },
  { key: "not_found", title: "Not found (deleted or out of your reach)" },
  { key: "not_done", title: "Not done (the run stopped)" },
] as const;

/**
 * What became of every chosen row: done, unchanged, forbidden, not found,
 * and the conflicts, each with base / theirs / yours per field and a way to
 * settle it: *Keep mine* sends that row again based on its version now;
 * *Take theirs* leaves the other person's values (an edit still sets the
 * fields that were not in conflict).
 */
export function BulkOutcomeView({ meta, outcome, names, patch, op, onChange, resend, onClose }: Props) {
  const [working, setWorking] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const fieldOf = (name: string) => meta.fields.find((f) => f.name === name);
  const nameOf = (pk: string) => names[pk] ?? pk;

  async function resolve(conflict: BulkRowConflict, keep: "mine" | "theirs") {
    setWorking(conflict.pk);
    setProblem(null);
    try {
      const rest = patch && keep === "theirs" ? patchWithout(patch, conflict) : null;
      if (keep === "theirs" && (rest === null || Object.keys(rest).length === 0)) {
        onChange(settle(outcome, conflict.pk, "theirs"));
        return;
      }
      const result = await resend(conflict.pk, conflict.version, keep === "mine" ? patch : rest);
      if ("skipped" in result) {
        onChange({ ...settle(outcome, conflict.pk, {}), skipped: [...outcome.skipped, { pk: conflict.pk, reason: result.skipped }] });
        return;
      }
      const next = settle(outcome, conflict.pk, result);
      // "Theirs" for the conflicting fields, the rest written: listed with the rows left as theirs.
      onChange(keep === "theirs" ? { ...next, done: next.done.filter((k) => k !== conflict.pk), theirs: [...next.theirs, conflict.pk] } : next);
    } catch (e) {
      setProblem(reasonOf(e));
    } finally {
      setWorking(null);
    }
  }

  const conflicts = outcome.conflicts;
  return (
    <Dialog labelledBy="bulk-outcome-title" onClose={onClose} className="bulk-outcome">
      <h2 id="bulk-outcome-title">{conflicts.length > 0 ? "Some records need you" : "Done"}</h2>
      <p className="muted">
        {op === "update" ? "Edit" : op.charAt(0).toUpperCase() + op.slice(1)}: {outcome.done.length} done
        {outcome.unchanged.length > 0 && `, ${outcome.unchanged.length} unchanged`}
        {conflicts.length > 0 && `, ${conflicts.length} in conflict`}
        {outcome.forbidden.length + outcome.not_found.length + outcome.invalid.length + outcome.skipped.length > 0 &&
          `, ${outcome.forbidden.length + outcome.not_found.length + outcome.invalid.length + outcome.skipped.length} not done`}
        .
      </p>
      {outcome.error && (
        <p className="error" role="alert">
          {outcome.error.title}: {outcome.error.detail}
        </p>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {conflicts.length > 0 && (
        <section aria-labelledby="bulk-conflicts-title" className="bulk-conflicts">
          <h3 id="bulk-conflicts-title">Changed by someone else since you saw them</h3>
          {conflicts.map((c) => (
            <article key={c.pk} className="bulk-conflict" data-pk={c.pk} aria-label={nameOf(c.pk)}>
              <h4>{nameOf(c.pk)}</h4>
              {c.conflicts.length > 0 ? (
                <table className="grid conflicts">
                  <thead>
                    <tr>
                      <th>Field</th>
                      <th>When you saw it</th>
                      <th>Theirs (saved)</th>
                      <th>Yours</th>
                    </tr>
                  </thead>
                  <tbody>
                    {c.conflicts.map((f) => (
                      <tr key={f.field} data-field={f.field}>
                        <th scope="row">{fieldOf(f.field)?.label ?? f.field}</th>
                        <td data-label="When you saw it">{display(f.base, fieldOf(f.field))}</td>
                        <td data-label="Theirs (saved)">{display(f.theirs, fieldOf(f.field))}</td>
                        <td data-label="Yours">{display(f.yours, fieldOf(f.field))}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p>It was changed (now version {c.version}) after you saw it.</p>
              )}
              <div className="actions">
                <button type="button" disabled={working !== null} onClick={() => void resolve(c, "mine")}>
                  Keep mine
                </button>
                <button type="button" className="secondary" disabled={working !== null} onClick={() => void resolve(c, "theirs")}>
                  Take theirs
                </button>
              </div>
            </article>
          ))}
        </section>
      )}
      <dl className="bulk-groups">
        {GROUPS.map(({ key, title }) =>
          outcome[key].length > 0 ? (
            <div key={key} data-outcome={key}>
              <dt>
                {title} ({outcome[key].length})
              </dt>
              <dd>{outcome[key].slice(0, 50).map(nameOf).join(", ")}{outcome[key].length > 50 && ", …"}</dd>
            </div>
          ) : null,
        )}
        {outcome.invalid.length > 0 && (
          <div data-outcome="invalid">
            <dt>Refused ({outcome.invalid.length})</dt>
            <dd>
              {outcome.invalid.map((i) => `${nameOf(i.pk)}: ${i.errors.map((e) => e.message).join(" ")}`).join("; ")}
            </dd>
          </div>
        )}
        {outcome.skipped.length > 0 && (
          <div data-outcome="skipped">
            <dt>Skipped ({outcome.skipped.length})</dt>
            <dd>{outcome.skipped.map((s) => `${nameOf(s.pk)}: ${s.reason}`).join("; ")}</dd>
          </div>
        )}
      </dl>
      <div className="actions">
        <span className="spacer" />
        <button type="button" className={conflicts.length > 0 ? "secondary" : undefined} onClick={onClose}>
          {conflicts.length > 0 ? "Close, leaving the conflicts as they are" : "Close"}
        </button>
      </div>
    </Dialog>
  );
}
