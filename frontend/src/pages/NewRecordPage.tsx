// A new record, created at once (for users with the `add` action): the fields
// a new record may be given, from `OPTIONS /api/r/{resource}`, in the record
// page's controls. The server is the judge of every value: the form does not
// let the browser's own validation stop a save (its messages say "match the
// requested format"), it sends the values and shows the 422's (or a unique
// key's 409's) `errors` under their fields. A save that fails keeps every
// value; leaving with values typed asks first. On success the new record opens.
//
// The address is /r/{resource}/records/new: a record's key is one path
// segment and may be any text (an adopted table keyed by "new"), so the form
// is one segment further than any record.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { Link, useBlocker, useNavigate, useParams } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../api/client";
import type { FieldValue, ResourceMeta } from "../api/models";
import { Dialog } from "../components/Dialog";
import { FieldInput } from "../components/FieldInput";
import { FormErrors, NotSaved, reasonOf, splitErrors, type FieldProblem } from "../components/FormProblems";
import { editProblems } from "../fieldValues";
import { display } from "../format";
import { usePageTitle } from "../pageTitle";
import { recordKey } from "../recordKey";
import { useToast } from "../toasts";

export function NewRecordPage() {
  const { resource = "" } = useParams();
  return <NewRecordOf key={resource} resource={resource} />;
}

function NewRecordOf({ resource }: { resource: string }) {
  const meta = useQuery({ queryKey: ["describe", resource], queryFn: () => api.describe(resource) });
  usePageTitle(meta.data ? `New ${meta.data.label.toLowerCase()}` : undefined, meta.data?.label_plural);
  if (meta.error) return <p className="error">{meta.error.message}</p>;
  if (!meta.data) return <p role="status">Loading…</p>;
  if (!meta.data.actions.includes("add")) {
    return <p className="error">You may not add {meta.data.label_plural.toLowerCase()}.</p>;
  }
  return <NewRecordForm meta={meta.data} />;
}

function NewRecordForm({ meta }: { meta: ResourceMeta }) {
  const resource = meta.name;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [values, setValues] = useState<Record<string, FieldValue>>({});
  const [errors, setErrors] = useState<FieldProblem[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  // Set once the record exists, so that going to it is not "leaving without saving".
  const created = useRef(false);
  const fields = useMemo(() => meta.fields.filter((f) => !f.read_only), [meta.fields]);
  const label = meta.label.toLowerCase();
  const dirty = Object.keys(values).length > 0;

  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) => !created.current && dirty && currentLocation.pathname !== nextLocation.pathname,
  );
  useEffect(() => {
    if (!dirty) return;
    const guard = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, [dirty]);

  /** Shows the problems, and takes the focus to the first field they name (or the banner). */
  const showProblems = useCallback(
    (problems: FieldProblem[]) => {
      flushSync(() => {
        setSaving(false); // the inputs are enabled again before one takes the focus
        setErrors(problems);
      });
      const first = fields.find((f) => problems.some((p) => p.field === f.name));
      const target = first ? document.getElementById(`field-${first.name}`) : document.querySelector<HTMLElement>("[data-testid='form-errors']");
      target?.focus();
    },
    [fields],
  );

  async function create() {
    // Typed values the browser already knows are wrong (too long, JSON that does not parse) are not sent.
    const typed = editProblems(fields, values);
    if (typed.length > 0) return showProblems(typed);
    setSaving(true);
    setErrors([]);
    setFailure(null);
    try {
      const record = await api.create(resource, values);
      created.current = true;
      void queryClient.invalidateQueries({ queryKey: ["list", resource] });
      const key = recordKey(meta, record);
      const name = record[meta.display];
      toast(`Created ${label} ${name === null || name === undefined || name === "" ? key : `“${display(name)}”`}.`, { tone: "success" });
      navigate(key === null ? `/r/${resource}` : `/r/${resource}/${encodeURIComponent(key)}`);
    } catch (e) {
      // A 422, or a 409 naming the unique field: the messages go under their fields.
      if (e instanceof ProblemError && e.problem.errors && e.problem.errors.length > 0) showProblems(e.problem.errors);
      else setFailure(reasonOf(e)); // the values stay in the form; Retry sends them again
    } finally {
      setSaving(false);
    }
  }

  const problems = splitErrors(errors, fields);
  const invalid = Object.keys(problems.byField).length + problems.general.length;
  return (
    <section className="record new-record">
      <div className="toolbar">
        <h1>New {label}</h1>
        <span className="spacer" />
        <Link to={`/r/${resource}`}>Back to {meta.label_plural.toLowerCase()}</Link>
      </div>
      <p className="muted">
        Fields marked * are required. To have the {label} reviewed before it exists,{" "}
        <Link to={`/r/${resource}/drafts/new`}>start a draft</Link> instead.
      </p>
      <form
        aria-label={`New ${label}`}
        // The server judges the values, in words (the browser's would quote no more than "the requested format").
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <FormErrors messages={problems.general} />
        {fields.map((f) => (
          <FieldInput
            key={f.name}
            field={f}
            value={values[f.name] ?? null}
            readOnly={saving}
            error={problems.byField[f.name]}
            onChange={(v) => {
              // A message about the old value goes; one about the new shows as it is typed (FieldInput).
              setErrors((current) => (current.some((x) => x.field === f.name) ? current.filter((x) => x.field !== f.name) : current));
              setValues((current) => {
                const next = { ...current };
                if (v === null || v === "") delete next[f.name];
                else next[f.name] = v;
                return next;
              });
            }}
          />
        ))}
        {failure && <NotSaved reason={failure} busy={saving} onRetry={() => void create()} />}
        <div className="actions">
          {invalid > 0 && (
            <p className="notice error" role="status">
              Not created: {invalid === 1 ? "one field needs" : `${invalid} fields need`} attention.
            </p>
          )}
          <span className="spacer" />
          <button type="submit" disabled={saving || !dirty}>
            {saving ? "Creating…" : `Create ${label}`}
          </button>
        </div>
      </form>
      {blocker.state === "blocked" && (
        // Escape is Stay: the values are kept.
        <Dialog role="alertdialog" labelledBy="leave-title" onClose={() => blocker.reset()}>
          <h2 id="leave-title">Leave without creating?</h2>
          <p>The {label} you started is not created yet; what you typed will be lost.</p>
          <div className="actions">
            <span className="spacer" />
            <button type="button" className="secondary" onClick={() => blocker.proceed()}>
              Leave
            </button>
            <button type="button" autoFocus onClick={() => blocker.reset()}>
              Stay
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}
