// Bulk actions on the chosen rows of a list: edit fields, delete, restore,
// purge (POST /api/r/{resource}/bulk) and the resource's record actions (one
// request per row). Each row is its own change, checked against the version
// the person saw; what came of every row is shown, conflicts to resolve.
import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../../api/client";
import type { BulkOp, BulkOutcome, BulkRequest, FieldMeta, FieldValue, RecordActionMeta, ResourceMeta } from "../../api/models";
import { live } from "../../live";
import type { RowSelection } from "../../hooks/useRowSelection";
import { ConfirmDialog, Dialog } from "../Dialog";
import { FieldInput } from "../FieldInput";
import { reasonOf } from "../FormProblems";
import { BulkOutcomeView } from "./BulkOutcome";
import { fullOutcome, targetRequest, type BulkTarget, type FullOutcome } from "./bulk";

interface Props {
  meta: ResourceMeta;
  selection: RowSelection;
  /** The list's total (null: not counted), for "select all N matching". */
  total: number | null | undefined;
  /** How many rows are loaded. */
  loaded: number;
  trash: boolean;
  /** What the chosen rows are, taken when an action starts (see BulkTarget). */
  target: () => BulkTarget;
}

type Running =
  | { kind: "edit"; target: BulkTarget }
  | { kind: "confirm"; op: Exclude<BulkOp, "update">; target: BulkTarget }
  | { kind: "action"; action: RecordActionMeta; target: BulkTarget }
  | { kind: "job"; job: number; done: number; total: number; request: BulkRequest; target: BulkTarget }
  | { kind: "outcome"; outcome: FullOutcome; request: BulkRequest | null; action: RecordActionMeta | null; target: BulkTarget };

const OP_WORDS: Record<Exclude<BulkOp, "update">, { verb: string; done: string; danger: boolean }> = {
  delete: { verb: "Delete", done: "deleted", danger: true },
  restore: { verb: "Restore", done: "restored", danger: false },
  purge: { verb: "Purge", done: "purged for good", danger: true },
};

/** The bar over the list while rows are chosen, and the dialogs of its actions. */
export function BulkBar({ meta, selection, total, loaded, trash, target }: Props) {
  const queryClient = useQueryClient();
  const [running, setRunning] = useState<Running | null>(null);
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const count = selection.all ? (total ?? loaded) : selection.keys.length;
  const word = (n: number) => (n === 1 ? meta.label.toLowerCase() : meta.label_plural.toLowerCase());
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["list", meta.name] });
    void queryClient.invalidateQueries({ queryKey: ["counts", meta.name] });
  };

  // A job's progress, then its result, from its websocket topic.
  const jobId = running?.kind === "job" ? running.job : null;
  useEffect(() => {
    if (jobId === null) return;
    return live.subscribe(`jobs/${jobId}`, (frame) => {
      if (frame.type !== "job") return;
      if (frame.event === "progress") {
        setRunning((r) =>
          r?.kind === "job" && r.job === jobId ? { ...r, done: frame.done ?? r.done, total: frame.total ?? r.total } : r,
        );
      } else {
        setRunning((r) =>
          r?.kind === "job" && r.job === jobId
            ? { kind: "outcome", outcome: fullOutcome(frame.result ?? {}), request: r.request, action: null, target: r.target }
            : r,
        );
        refresh();
      }
    });
    // refresh only invalidates: it need not restart the subscription.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jobId]);

  async function send(request: BulkRequest, chosen: BulkTarget) {
    setBusy(true);
    setFailed(null);
    try {
      const answer = await api.bulk(meta.name, request);
      if ("job" in answer) setRunning({ kind: "job", job: answer.job, done: 0, total: chosen.count, request, target: chosen });
      else {
        setRunning({ kind: "outcome", outcome: fullOutcome(answer.result), request, action: null, target: chosen });
        refresh();
      }
    } catch (e) {
      setFailed(e instanceof ProblemError && e.problem.errors?.length ? e.problem.errors.map((x) => `${x.field}: ${x.message}`).join(" ") : reasonOf(e));
    } finally {
      setBusy(false);
    }
  }

  /** A record action, row by row, each against the version seen (X-Base-Version). */
  async function runAction(action: RecordActionMeta, chosen: BulkTarget) {
    setBusy(true);
    const outcome = fullOutcome({});
    for (const pk of chosen.pks ?? []) {
      const version = chosen.versions[pk];
      if (version === undefined) continue;
      const result = await actionOnRow(meta.name, pk, action.name, version);
      if ("skipped" in result) outcome.skipped.push({ pk, reason: result.skipped });
      else {
        for (const list of ["done", "forbidden", "not_found"] as const) outcome[list].push(...(result[list] ?? []));
        outcome.conflicts.push(...(result.conflicts ?? []));
      }
    }
    setBusy(false);
    setRunning({ kind: "outcome", outcome, request: null, action, target: chosen });
    refresh();
  }

  const mayChange = meta.actions.includes("change") && !trash;
  const writable = meta.fields.filter((f) => !f.read_only);
  const actions = trash ? [] : meta.record_actions;
  const close = () => {
    setRunning(null);
    setFailed(null);
  };

  return (
    <>
      {(count > 0 || selection.gone > 0) && (
        <div className="bulk-bar" role="region" aria-label="Bulk actions">
          <strong data-testid="selected-count">
            {selection.all ? `All ${count} matching` : `${count} selected`}
          </strong>
          {!selection.all && selection.pageState === "all" && typeof total === "number" && total > count && (
            <button type="button" className="link" onClick={selection.selectAll}>
              Select all {total} matching
            </button>
          )}
          {selection.gone > 0 && (
            <span className="muted" role="status">
              {selection.gone} chosen {word(selection.gone)} left this list (changed or deleted by someone) and
              {selection.gone === 1 ? " is" : " are"} left out.
            </span>
          )}
          <span className="spacer" />
          {count > 0 && mayChange && writable.length > 0 && (
            <button type="button" onClick={() => setRunning({ kind: "edit", target: target() })}>
              Edit fields…
            </button>
          )}
          {count > 0 &&
            actions.map((a) => (
              <button
                key={a.name}
                type="button"
                className="secondary"
                disabled={selection.all}
                title={selection.all ? "Record actions run on chosen rows, not on all matching" : undefined}
                onClick={() => setRunning({ kind: "action", action: a, target: target() })}
              >
                {a.label}…
              </button>
            ))}
          {count > 0 && !trash && meta.soft_delete && meta.actions.includes("delete") && (
            <button type="button" className="secondary danger-text" onClick={() => setRunning({ kind: "confirm", op: "delete", target: target() })}>
              Delete…
            </button>
          )}
          {count > 0 && trash && meta.actions.includes("restore") && (
            <button type="button" className="secondary" onClick={() => setRunning({ kind: "confirm", op: "restore", target: target() })}>
              Restore…
            </button>
          )}
          {count > 0 && (trash || !meta.soft_delete) && meta.actions.includes("purge") && (
            <button type="button" className="secondary danger-text" onClick={() => setRunning({ kind: "confirm", op: "purge", target: target() })}>
              Purge…
            </button>
          )}
          <button type="button" className="secondary" onClick={selection.clear}>
            Clear selection
          </button>
        </div>
      )}
      {running?.kind === "edit" && (
        <BulkEditDialog
          meta={meta}
          fields={writable}
          target={running.target}
          busy={busy}
          failed={failed}
          onCancel={close}
          onApply={(patch) => void send({ op: "update", patch, ...targetRequest(running.target) }, running.target)}
        />
      )}
      {running?.kind === "confirm" && (
        <ConfirmDialog
          title={`${OP_WORDS[running.op].verb} ${running.target.count} ${word(running.target.count)}?`}
          confirm={OP_WORDS[running.op].verb}
          danger={OP_WORDS[running.op].danger}
          busy={busy}
          onCancel={close}
          onConfirm={() => void send({ op: running.op, ...targetRequest(running.target) }, running.target)}
        >
          <p>
            Each is {OP_WORDS[running.op].done} as its own change, only if nobody changed it since you saw it.
            {running.op === "purge" && " Purged records cannot be restored; the audit keeps their last values."}
          </p>
          {failed && <p className="error" role="alert">{failed}</p>}
        </ConfirmDialog>
      )}
      {running?.kind === "action" && (
        <ConfirmDialog
          title={`${running.action.label}: ${running.target.count} ${word(running.target.count)}?`}
          confirm={running.action.label}
          busy={busy}
          onCancel={close}
          onConfirm={() => void runAction(running.action, running.target)}
        >
          {running.action.confirm && <p>{running.action.confirm}</p>}
          <p>It runs on each record in turn, only where it applies and nobody changed the record since you saw it.</p>
        </ConfirmDialog>
      )}
      {running?.kind === "job" && (
        <Dialog labelledBy="bulk-job-title" onClose={() => {}} className="narrow">
          <h2 id="bulk-job-title">Working on {running.total} {word(running.total)}…</h2>
          <progress
            className="bulk-progress"
            aria-label="Rows done"
            max={Math.max(running.total, 1)}
            value={running.done}
            data-testid="bulk-progress"
          />
          <p className="muted">
            {running.done} of {running.total} done
          </p>
        </Dialog>
      )}
      {running?.kind === "outcome" && (
        <BulkOutcomeView
          meta={meta}
          outcome={running.outcome}
          names={running.target.names}
          patch={running.request?.patch ?? null}
          op={running.action ? running.action.label : (running.request?.op ?? "update")}
          onChange={(outcome) => setRunning((r) => (r?.kind === "outcome" ? { ...r, outcome } : r))}
          resend={async (pk, version, patch) => {
            const r = running.action
              ? await actionOnRow(meta.name, pk, running.action.name, version)
              : await bulkRow(meta.name, running.request?.op ?? "update", pk, version, patch);
            refresh();
            return r;
          }}
          onClose={() => {
            close();
            selection.clear();
          }}
        />
      )}
    </>
  );
}

/** One row again (a conflict resolved as "mine"), based on its version now. */
async function bulkRow(resource: string, op: BulkOp, pk: string, version: number, patch: Record<string, unknown> | null): Promise<BulkOutcome> {
  const request: BulkRequest = { op, pks: [pk], versions: { [pk]: version }, ...(op === "update" ? { patch: patch ?? {} } : {}) };
  const answer = await api.bulk(resource, request);
  if ("job" in answer) throw new Error("One row became a job.");
  return answer.result;
}

/** A record action on one row: its outcome in the bulk result's terms, or why it was skipped. */
async function actionOnRow(resource: string, pk: string, name: string, version: number): Promise<BulkOutcome | { skipped: string }> {
  try {
    await api.runAction(resource, pk, name, version);
    return { done: [pk] };
  } catch (e) {
    if (!(e instanceof ProblemError)) return { skipped: reasonOf(e) };
    if (e.status === 404) return { not_found: [pk] };
    if (e.status === 403) return { forbidden: [pk] };
    const current = e.problem.current?._version;
    if ((e.status === 409 || e.status === 412) && e.problem.conflicts && typeof current === "number") {
      return { conflicts: [{ pk, version: current, conflicts: e.problem.conflicts }] };
    }
    return { skipped: e.problem.detail || e.problem.title };
  }
}

interface EditProps {
  meta: ResourceMeta;
  fields: FieldMeta[];
  target: BulkTarget;
  busy: boolean;
  failed: string | null;
  onApply: (patch: Record<string, FieldValue>) => void;
  onCancel: () => void;
}

/**
 * The fields to set on every chosen row, with the record form's inputs. Its
 * choices are this dialog's state: a live frame or a refetch of the list
 * behind it changes nothing here.
 */
export function BulkEditDialog({ meta, fields, target, busy, failed, onApply, onCancel }: EditProps) {
  const [chosen, setChosen] = useState<string[]>([]);
  const [values, setValues] = useState<Record<string, FieldValue>>({});
  const byName = new Map(fields.map((f) => [f.name, f]));
  const word = target.count === 1 ? meta.label.toLowerCase() : meta.label_plural.toLowerCase();
  return (
    <Dialog labelledBy="bulk-edit-title" onClose={onCancel} className="bulk-edit">
      <h2 id="bulk-edit-title">
        Edit {target.count} {word}
      </h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onApply(Object.fromEntries(chosen.map((name) => [name, values[name] ?? null])));
        }}
      >
        <fieldset className="bulk-fields">
          <legend>Fields to set</legend>
          {fields.map((f) => (
            <label key={f.name} className="check">
              <input
                type="checkbox"
                checked={chosen.includes(f.name)}
                onChange={(e) => setChosen((c) => (e.target.checked ? [...c, f.name] : c.filter((n) => n !== f.name)))}
              />
              {f.label}
            </label>
          ))}
        </fieldset>
        {chosen.map((name) => {
          const field = byName.get(name);
          if (!field) return null;
          return (
            <div key={name} className="field">
              <label htmlFor={`bulk-${name}`}>{field.label}</label>
              <FieldInput
                id={`bulk-${name}`}
                field={field}
                value={values[name] ?? null}
                readOnly={false}
                onChange={(value) => setValues((v) => ({ ...v, [name]: value }))}
              />
            </div>
          );
        })}
        <p className="muted">
          Each {meta.label.toLowerCase()} is changed on its own; one that someone changed since you saw it is shown to you, not overwritten.
        </p>
        {failed && (
          <p className="error" role="alert">
            {failed}
          </p>
        )}
        <div className="actions">
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" disabled={chosen.length === 0 || busy}>
            {busy ? "Working…" : `Apply to ${target.count} ${word}`}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
