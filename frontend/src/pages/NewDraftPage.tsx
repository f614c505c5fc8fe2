// A draft of a new record: the fields the user may write, from `OPTIONS /api/r/{resource}`,
// in the record page's form controls. Nothing is created until the draft is published;
// saving posts `POST /api/r/{resource}/drafts {data}` and opens the draft's page, where
// it is edited further, submitted and reviewed like any other draft.
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../api/client";
import { FormErrors, NotSaved, reasonOf, splitErrors } from "../components/FormProblems";
import type { FieldValue } from "../api/models";
import { editProblems } from "../fieldValues";
import { FieldInput } from "../components/FieldInput";
import { usePageTitle } from "../pageTitle";

export function NewDraftPage() {
  const { resource = "" } = useParams();
  return <NewDraftOf key={resource} resource={resource} />;
}

function NewDraftOf({ resource }: { resource: string }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const meta = useQuery({ queryKey: ["describe", resource], queryFn: () => api.describe(resource) });
  const [data, setData] = useState<Record<string, FieldValue>>({});
  const [errors, setErrors] = useState<{ field: string; message: string }[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const fields = useMemo(() => (meta.data?.fields ?? []).filter((f) => !f.read_only), [meta.data]);
  usePageTitle(meta.data ? `New ${meta.data.label.toLowerCase()} (draft)` : undefined);

  if (meta.error) return <p className="error">{meta.error.message}</p>;
  if (!meta.data) return <p role="status">Loading…</p>;
  const label = meta.data.label.toLowerCase();
  if (!meta.data.actions.includes("add")) return <p className="error">You may not add {meta.data.label_plural.toLowerCase()}.</p>;

  const problems = splitErrors(errors, fields, "data.");

  async function save() {
    // Typed values the browser already knows are wrong (JSON that does not parse...) are not sent.
    const typed = editProblems(fields, data);
    if (typed.length > 0) return setErrors(typed.map((x) => ({ ...x, field: `data.${x.field}` })));
    setSaving(true);
    setErrors([]);
    setNotice(null);
    setFailure(null);
    try {
      const draft = await api.createNewDraft(resource, data);
      void queryClient.invalidateQueries({ queryKey: ["drafts"] });
      navigate(`/drafts/${draft.id}`);
    } catch (e) {
      if (e instanceof ProblemError && e.problem.errors && e.problem.errors.length > 0) {
        setErrors(e.problem.errors);
        setNotice("Some fields need attention.");
      } else {
        setFailure(reasonOf(e)); // the values stay in the form; Retry sends them again
      }
    } finally {
      setSaving(false);
    }
  }

  return (
    <section>
      <div className="toolbar">
        <h1>New {label} (draft)</h1>
        <span className="spacer" />
        <Link to={`/r/${resource}`}>Back to {meta.data.label_plural.toLowerCase()}</Link>
      </div>
      <p className="muted">The {label} is created when the draft is published, after review.</p>
      <form
        aria-label={`New ${label}`}
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <FormErrors messages={problems.general} />
        {fields.map((f) => (
          <FieldInput
            key={f.name}
            field={f}
            value={data[f.name] ?? null}
            readOnly={saving}
            error={problems.byField[f.name]}
            onChange={(v) =>
              setData((current) => {
                const next = { ...current };
                if (v === null || v === "") delete next[f.name];
                else next[f.name] = v;
                return next;
              })
            }
          />
        ))}
        {failure && <NotSaved reason={failure} busy={saving} onRetry={() => void save()} />}
        <div className="actions">
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          <button type="submit" disabled={saving || Object.keys(data).length === 0}>
            {saving ? "Saving…" : "Save draft"}
          </button>
        </div>
      </form>
    </section>
  );
}
