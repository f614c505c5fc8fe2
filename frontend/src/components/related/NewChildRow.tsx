// A new child row, added from its parent's page: the fields a new row may be
// given (`OPTIONS /api/r/{resource}`), with the field pointing at the parent
// set to this record and not offered. The server judges the values; its 422
// shows under the fields, and a save that fails keeps them.
import { useId, useMemo, useState } from "react";
import { api, ProblemError } from "../../api/client";
import type { FieldValue, RelatedMeta, ResourceMeta } from "../../api/models";
import { editProblems } from "../../fieldValues";
import { recordKey } from "../../recordKey";
import { FieldInput } from "../FieldInput";
import { FormErrors, NotSaved, reasonOf, splitErrors, type FieldProblem } from "../FormProblems";
import type { Parent } from "./useRelatedRows";

interface Props {
  meta: ResourceMeta;
  link: RelatedMeta;
  parent: Parent;
  /** What is typed, held by the panel (it counts as unsaved work there). */
  values: Record<string, FieldValue>;
  onValues: (change: (values: Record<string, FieldValue>) => Record<string, FieldValue>) => void;
  onCancel: () => void;
  /** Added; the new row's key (null for a resource without one). */
  onAdded: (key: string | null) => void;
}

export function NewChildRow({ meta, link, parent, values, onValues, onCancel, onAdded }: Props) {
  const idBase = useId();
  const [errors, setErrors] = useState<FieldProblem[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const fields = useMemo(() => meta.fields.filter((f) => !f.read_only && f.name !== link.field), [meta.fields, link.field]);
  const label = meta.label.toLowerCase();

  async function add() {
    const typed = editProblems(fields, values);
    if (typed.length > 0) return setErrors(typed);
    setSaving(true);
    setErrors([]);
    setFailure(null);
    try {
      const created = await api.create(meta.name, { ...values, [link.field]: parent.key });
      onAdded(recordKey(meta, created));
    } catch (e) {
      if (e instanceof ProblemError && e.problem.errors && e.problem.errors.length > 0) setErrors(e.problem.errors);
      else setFailure(reasonOf(e)); // the values stay; Retry sends them again
    } finally {
      setSaving(false);
    }
  }

  // A message about the field pointing at the parent (a reference the database refused) names no shown field.
  const problems = splitErrors(errors, fields);
  return (
    <form
      className="row-form new-row"
      aria-label={`New ${label}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void add();
      }}
    >
      <div className="row-form-head">
        <strong>New {label}</strong>
        <span className="muted">
          of this {parent.label.toLowerCase()}
        </span>
      </div>
      <FormErrors messages={problems.general} />
      <div className="row-fields">
        {fields.map((f) => (
          <FieldInput
            key={f.name}
            id={`${idBase}-${f.name}`}
            field={f}
            value={values[f.name] ?? null}
            readOnly={saving}
            error={problems.byField[f.name]}
            onChange={(v) => {
              setErrors((current) => (current.some((x) => x.field === f.name) ? current.filter((x) => x.field !== f.name) : current));
              onValues((current) => {
                const next = { ...current };
                if (v === null || v === "") delete next[f.name];
                else next[f.name] = v;
                return next;
              });
            }}
          />
        ))}
      </div>
      {failure && <NotSaved reason={failure} busy={saving} onRetry={() => void add()} />}
      <div className="actions">
        <span className="spacer" />
        <button type="button" className="secondary small" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="small" disabled={saving}>
          {saving ? "Adding…" : `Add ${label}`}
        </button>
      </div>
    </form>
  );
}
