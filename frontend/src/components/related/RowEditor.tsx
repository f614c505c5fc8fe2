// One child row opened for editing, inside its table: the row's fields in
// the record page's controls, saved with `X-Base-Version` (a field merge).
// Its state is the panel's (rowEdits.ts); this shows it and reports what the
// person does. While open, the row's topic carries the person's presence
// ("editing", and which field), so others see it on the row and the field.
import { useEffect, useId, useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, ProblemError } from "../../api/client";
import type { FieldMeta, RecordBody, ResourceMeta } from "../../api/models";
import { editProblems } from "../../fieldValues";
import { display } from "../../format";
import { live, type PresenceUser } from "../../live";
import { keyColumns } from "../../recordKey";
import { ConflictDialog, type Keep } from "../ConflictDialog";
import { FieldInput } from "../FieldInput";
import { FormErrors, NotSaved, reasonOf, splitErrors } from "../FormProblems";
import { PresenceStack } from "../list/PresenceStack";
import { editField, keepMine, resolved, takeTheirs, type RowEdit } from "./rowEdits";

interface Props {
  /** The child resource's meta (its collection's). */
  meta: ResourceMeta;
  rowKey: string;
  name: string;
  /** Fields not offered (the one pointing at the parent record). */
  hidden: string[];
  edit: RowEdit;
  others: PresenceUser[];
  mayRestore: boolean;
  onUpdate: (change: (edit: RowEdit) => RowEdit) => void;
  /** The edit is over: saved, or dropped by the person. */
  onDone: (saved: boolean) => void;
}

/** A field that may not be written on an existing record, judged without its own OPTIONS (still loading, or refused). */
function fixedOnRecord(f: FieldMeta): boolean {
  return f.read_only || Boolean(f.read_only_after_create);
}

export function RowEditor({ meta, rowKey, name, hidden, edit, others, mayRestore, onUpdate, onDone }: Props) {
  const resource = meta.name;
  const idBase = useId();
  const topic = `r/${resource}/${rowKey}`;
  // What this person may change on this row (a field read-only once created, a row rule).
  const rowMeta = useQuery({
    queryKey: ["describe", resource, rowKey],
    queryFn: () => api.describe(resource, rowKey),
    enabled: edit.gone?.how !== "purged",
  });
  const key = keyColumns(meta)[0];
  const fields = useMemo(
    () => (rowMeta.data ?? meta).fields.filter((f) => !hidden.includes(f.name) && f.name !== key),
    [rowMeta.data, meta, hidden, key],
  );
  const mayChange = rowMeta.data ? rowMeta.data.actions.includes("change") : meta.actions.includes("change");

  useEffect(() => {
    const stop = live.subscribe(topic, () => undefined);
    live.announce(topic, "editing");
    return stop; // unsubscribing says "left"
  }, [topic]);

  const dirty = Object.keys(edit.edits).length > 0;
  const problems = splitErrors(edit.errors, fields);
  const label = meta.label.toLowerCase();

  async function save(current: RowEdit) {
    if (Object.keys(current.edits).length === 0) return onDone(false);
    const typed = editProblems(fields, current.edits);
    if (typed.length > 0) return onUpdate((e) => ({ ...e, errors: typed }));
    onUpdate((e) => ({ ...e, saving: true, errors: [], failure: null }));
    try {
      await api.patch(resource, rowKey, current.edits, current.base._version);
      onDone(true);
    } catch (e) {
      const problem = e instanceof ProblemError ? e.problem : null;
      onUpdate((x) => {
        const after = { ...x, saving: false };
        if (problem?.status === 409 && problem.conflicts && problem.conflicts.length > 0 && problem.current) {
          // The row as it is now: the three-way choice is made against it.
          const latest = problem.current._version >= x.latest._version ? problem.current : x.latest;
          return { ...after, latest, conflicts: problem.conflicts };
        }
        if (problem?.status === 409 && problem.current?._deleted_at) {
          return { ...after, latest: problem.current, gone: { how: "deleted", by: "Someone", version: problem.current._version } };
        }
        if (problem?.status === 404) return { ...after, gone: { how: "purged", by: "Someone", version: x.latest._version } };
        if (problem?.errors && problem.errors.length > 0) return { ...after, errors: problem.errors };
        // Not reached, refused or failed: the edits stay, Retry sends them again.
        return { ...after, failure: reasonOf(e) };
      });
    }
  }

  async function restore() {
    if (!edit.gone) return;
    try {
      const back: RecordBody = await api.restore(resource, rowKey, edit.gone.version);
      onUpdate((e) => ({ ...e, gone: null, latest: back, base: Object.keys(e.remote).length === 0 ? back : e.base, failure: null }));
    } catch (e) {
      onUpdate((x) => ({ ...x, failure: `Could not restore it: ${reasonOf(e)}` }));
    }
  }

  function resolve(choice: Record<string, Keep>) {
    const theirs = Object.keys(choice).filter((n) => choice[n] === "theirs");
    const next = resolved(edit, edit.latest, theirs);
    onUpdate(() => next);
    void save(next);
  }

  const gone = edit.gone;
  return (
    <>
    <form
      className="row-form"
      aria-label={`Edit ${label} ${name}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (!gone) void save(edit);
      }}
    >
      <div className="row-form-head">
        <strong>{name}</strong>
        <span className="muted">version {edit.latest._version}</span>
        <PresenceStack users={others} />
      </div>
      {gone && (
        <div className="problem" role="alert" data-testid="row-gone">
          {gone.how === "deleted" ? (
            <>
              <strong>{gone.by} deleted this {label}</strong> while you were editing it. Your changes are still here, not saved.{" "}
              {mayRestore && (
                <button type="button" className="secondary small" onClick={() => void restore()}>
                  Restore it and keep editing
                </button>
              )}
            </>
          ) : (
            <>
              <strong>{gone.by} removed this {label} for good</strong> while you were editing it; your changes cannot be saved to it.
            </>
          )}
        </div>
      )}
      {!mayChange && !gone && <p className="muted">You may not change this {label}.</p>}
      <FormErrors messages={problems.general} />
      <div className="row-fields">
        {fields.map((f) => (
          <FieldInput
            key={f.name}
            id={`${idBase}-${f.name}`}
            field={f}
            value={f.name in edit.edits ? edit.edits[f.name] : edit.latest[f.name]}
            readOnly={edit.saving || !mayChange || gone?.how === "purged" || (rowMeta.data ? f.read_only : fixedOnRecord(f))}
            error={problems.byField[f.name]}
            editors={others.filter((u) => u.state === "editing" && u.field === f.name).map((u) => u.name)}
            onFocusChange={(focused) => live.announce(topic, "editing", focused ? f.name : null)}
            onChange={(v) => onUpdate((e) => editField(e, f, v))}
          >
            {edit.remote[f.name] && (
              <p className="remote" role="status" data-testid={`remote-${f.name}`}>
                {edit.remote[f.name].by} changed this to “{display(edit.remote[f.name].value, f)}”.{" "}
                <button type="button" className="link" onClick={() => onUpdate((e) => takeTheirs(e, f.name))}>
                  Take theirs
                </button>{" "}
                <button type="button" className="link" onClick={() => onUpdate((e) => keepMine(e, f.name))}>
                  Keep mine
                </button>
              </p>
            )}
          </FieldInput>
        ))}
      </div>
      {edit.failure && <NotSaved reason={edit.failure} busy={edit.saving} onRetry={() => void save(edit)} />}
      <div className="actions">
        <span className="spacer" />
        <button type="button" className="secondary small" onClick={() => onDone(false)}>
          {dirty ? "Discard changes" : "Close"}
        </button>
        {mayChange && gone?.how !== "purged" && (
          <button type="submit" className="small" disabled={!dirty || edit.saving || gone !== null}>
            {edit.saving ? "Saving…" : "Save"}
          </button>
        )}
      </div>
    </form>
    {edit.conflicts && (
      <ConflictDialog
        conflicts={edit.conflicts}
        fields={fields}
        onResolve={resolve}
        onCancel={() => onUpdate((e) => ({ ...e, conflicts: null }))}
      />
    )}
    </>
  );
}
