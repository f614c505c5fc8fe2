import { useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../api/client";
import type { Conflict, FieldMeta, RecordActionMeta, RecordBody } from "../api/models";
import { display } from "../format";
import { ConfirmDialog, Dialog } from "./Dialog";
import { reasonOf } from "./FormProblems";

interface Props {
  resource: string;
  pk: string;
  /** The record's actions as its OPTIONS lists them (with `applies`). */
  actions: RecordActionMeta[];
  /** The record as the page shows it: the version an action is based on. */
  record: RecordBody;
  fields: FieldMeta[];
  /** The action ran: the record as it left it. */
  onDone: (saved: RecordBody, action: RecordActionMeta) => void;
  /** A refusal brought the record as it is now (someone changed it): show that copy. */
  onCurrent: (current: RecordBody) => void;
}

/** What the person is being asked: the action, and the version they pressed it on. */
interface Asking {
  action: RecordActionMeta;
  version: number;
}

interface Refusal {
  action: RecordActionMeta;
  detail: string;
  conflicts: Conflict[];
  /** The server answered with the record as it is (a refusal, not a lost request). */
  refreshed: boolean;
}

/**
 * The record's actions (API.md, "Record actions"): a button for each that
 * applies now, a confirmation when the action has one, and a run based on
 * the version the person saw (`X-Base-Version`).
 *
 * The question asked and the version it is about are state, taken when the
 * button is pressed: a live change or a refetch of the actions while the
 * dialog is open re-renders it without closing it or changing what it will
 * send, and a run based on an older version is refused by the server with
 * what changed, which the page then shows (field, when you looked, now).
 * Whether an action applies depends on the record, so the actions are asked
 * for again whenever the record's version moves.
 */
export function RecordActions({ resource, pk, actions, record, fields, onDone, onCurrent }: Props) {
  const queryClient = useQueryClient();
  const [asking, setAsking] = useState<Asking | null>(null);
  const [running, setRunning] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);

  // `applies` was decided for the version the actions were fetched with.
  const version = record._version;
  const fetchedFor = useRef(version);
  useEffect(() => {
    if (fetchedFor.current === version) return;
    fetchedFor.current = version;
    void queryClient.invalidateQueries({ queryKey: ["describe", resource, pk] });
  }, [version, queryClient, resource, pk]);

  async function run(action: RecordActionMeta, base: number) {
    setRunning(action.name);
    setRefusal(null);
    try {
      const saved = await api.runAction(resource, pk, action.name, base);
      setAsking(null);
      onDone(saved, action);
    } catch (e) {
      setAsking(null);
      const problem = e instanceof ProblemError ? e.problem : null;
      if (problem?.current) onCurrent(problem.current);
      setRefusal({ action, detail: reasonOf(e), conflicts: problem?.conflicts ?? [], refreshed: Boolean(problem?.current) });
    } finally {
      setRunning(null);
      // Whatever happened, whether each action applies may have changed; and an
      // action writes other records too (a course's sessions).
      void queryClient.invalidateQueries({ queryKey: ["describe", resource, pk] });
      void queryClient.invalidateQueries({ queryKey: ["list"] });
    }
  }

  function press(action: RecordActionMeta) {
    if (action.confirm) setAsking({ action, version });
    else void run(action, version);
  }

  const shown = actions.filter((a) => a.applies);
  const label = (name: string) => fields.find((f) => f.name === name)?.label ?? name;
  const fieldOf = (name: string) => fields.find((f) => f.name === name);
  return (
    <>
      {shown.length > 0 && (
        <div className="record-actions" role="group" aria-label="Actions">
          {shown.map((a) => (
            <button key={a.name} type="button" className="secondary" disabled={running !== null} onClick={() => press(a)}>
              {running === a.name ? `${a.label}…` : a.label}
            </button>
          ))}
        </div>
      )}
      {asking && (
        <ConfirmDialog
          title={`${asking.action.label}?`}
          confirm={asking.action.label}
          busy={running !== null}
          onConfirm={() => void run(asking.action, asking.version)}
          onCancel={() => setAsking(null)}
        >
          <p>{asking.action.confirm}</p>
        </ConfirmDialog>
      )}
      {refusal && (
        <Dialog role="alertdialog" labelledBy="action-refused-title" onClose={() => setRefusal(null)} className="narrow">
          <h2 id="action-refused-title">“{refusal.action.label}” did not go through</h2>
          <p data-testid="action-refusal">{refusal.detail}</p>
          {refusal.conflicts.length > 0 && (
            <table className="grid conflicts" data-testid="action-conflicts">
              <thead>
                <tr>
                  <th>Field</th>
                  <th>When you looked</th>
                  <th>Now</th>
                </tr>
              </thead>
              <tbody>
                {refusal.conflicts.map((c) => (
                  <tr key={c.field} data-field={c.field}>
                    <th scope="row">{label(c.field)}</th>
                    <td data-label="When you looked">{display(c.base, fieldOf(c.field))}</td>
                    <td data-label="Now">{display(c.theirs, fieldOf(c.field))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {refusal.refreshed && <p className="muted">Nothing was changed. The record now shows its current values.</p>}
          <div className="actions">
            <span className="spacer" />
            <button type="button" autoFocus onClick={() => setRefusal(null)}>
              OK
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}
