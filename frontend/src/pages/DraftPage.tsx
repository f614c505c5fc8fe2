// One draft: its fields (editable while it is a draft or rejected), the diff
// against the live record, the live record next to the preview (in the
// resource's own public page when it has a preview_url), the review trail,
// and the review buttons this user and the draft's status allow.
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../api/client";
import type { Conflict, DraftDetail, FieldMeta, FieldValue, RecordBody } from "../api/models";
import { ConflictDialog, type Keep } from "../components/ConflictDialog";
import { FormErrors, NotSaved, reasonOf, splitErrors } from "../components/FormProblems";
import { editProblems } from "../fieldValues";
import { FieldInput } from "../components/FieldInput";
import { StatusBadge } from "../components/drafts/DraftTable";
import { PreviewFrame } from "../components/drafts/PreviewFrame";
import { ReviewActions } from "../components/drafts/ReviewActions";
import { ReviewTrail } from "../components/drafts/ReviewTrail";
import { sameValue } from "../datetime";
import { display } from "../format";
import { live } from "../live";
import { useToast } from "../toasts";
import { keyColumns } from "../recordKey";
import { usePageTitle } from "../pageTitle";

type Edits = Record<string, FieldValue>;

export function DraftPage() {
  const { id = "" } = useParams();
  return <DraftPageOf key={id} id={id} />;
}

/** Every query that shows this draft: refetched on its live events and after each action. */
export function draftKeys(id: string) {
  return [["draft", id], ["draft-preview", id], ["draft-comments", id]];
}

function DraftPageOf({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const draft = useQuery({ queryKey: ["draft", id], queryFn: () => api.draft(id) });
  const preview = useQuery({ queryKey: ["draft-preview", id], queryFn: () => api.draftPreview(id) });
  const resource = draft.data?.resource ?? "";
  const pk = draft.data?.pk ?? null;
  const meta = useQuery({
    queryKey: pk === null ? ["describe", resource] : ["describe", resource, pk],
    enabled: resource !== "",
    queryFn: () => api.describe(resource, pk ?? undefined),
  });
  const current = useQuery({
    queryKey: ["record", resource, pk],
    enabled: resource !== "" && pk !== null,
    queryFn: () => api.get(resource, pk!),
  });
  const [edits, setEdits] = useState<Edits>({});
  const [errors, setErrors] = useState<{ field: string; message: string }[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [conflicts, setConflicts] = useState<Conflict[] | null>(null);
  // A save that did not go through for another reason than the input: the edits stay, with a Retry.
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  usePageTitle(`Draft #${id}`, meta.data?.label_plural);

  const refresh = useCallback(() => {
    for (const key of draftKeys(id)) void queryClient.invalidateQueries({ queryKey: key });
    void queryClient.invalidateQueries({ queryKey: ["drafts"] });
  }, [id, queryClient]);

  // This draft's events, and changes to the live record it is compared with.
  useEffect(
    () =>
      live.subscribe("drafts", (frame) => {
        if (frame.type === "draft" && String(frame.draft.id) === id) refresh();
        else if (frame.type === "resync") refresh();
      }),
    [id, refresh],
  );
  useEffect(() => {
    if (!resource || pk === null) return;
    return live.subscribe(`r/${resource}/${pk}`, (frame) => {
      if (frame.type === "change" || frame.type === "resync") {
        void queryClient.invalidateQueries({ queryKey: ["record", resource, pk] });
        void queryClient.invalidateQueries({ queryKey: ["draft", id] });
        void queryClient.invalidateQueries({ queryKey: ["draft-preview", id] });
      }
    });
  }, [resource, pk, id, queryClient]);

  const fields = useMemo(() => meta.data?.fields ?? [], [meta.data]);

  if (draft.error) return <p className="error">{draft.error.message}</p>;
  if (!draft.data || !meta.data || !preview.data) return <p role="status">Loading…</p>;
  const d = draft.data;
  const actions = meta.data.actions;
  const editable = (d.status === "draft" || d.status === "rejected") && actions.includes(pk === null ? "add" : "change");
  const value = (name: string): FieldValue => (name in edits ? edits[name] : (preview.data[name] ?? null));
  const dirty = Object.keys(edits).length > 0;
  const mayRebase = actions.includes(pk === null ? "add" : "change") && d.status !== "published" && d.status !== "discarded";

  const problems = splitErrors(errors, fields, "data.");

  async function save(changes: Edits, against: DraftDetail) {
    // Typed values the browser already knows are wrong (JSON that does not parse...) are not sent.
    const typed = editProblems(fields, changes);
    if (typed.length > 0) return setErrors(typed);
    setSaving(true);
    setErrors([]);
    setNotice(null);
    setFailure(null);
    try {
      const saved = await api.patchDraft(id, changes, [], against._version);
      setEdits({});
      setNotice(`Draft saved (version ${saved._version}).`);
      refresh();
    } catch (e) {
      if (e instanceof ProblemError && e.status === 409 && e.problem.conflicts) setConflicts(e.problem.conflicts);
      else if (e instanceof ProblemError && e.problem.errors && e.problem.errors.length > 0) setErrors(e.problem.errors);
      else setFailure(reasonOf(e));
    } finally {
      setSaving(false);
    }
  }

  async function unset(name: string) {
    try {
      await api.patchDraft(id, {}, [name], d._version);
      refresh();
    } catch (e) {
      setNotice(reasonOf(e));
    }
  }

  function rebase(choice: Record<string, Keep>) {
    setConflicts(null);
    const resolutions = Object.fromEntries(
      Object.entries(choice).map(([field, keep]) => [field, keep === "mine" ? "yours" : "theirs"] as const),
    );
    api
      .rebaseDraft(id, resolutions)
      .then((rebased) => {
        toast(`Rebased onto the live record: the draft is a ${rebased.status} again, to be submitted.`, { tone: "success" });
        refresh();
      })
      .catch((e: unknown) => toast(reasonOf(e), { tone: "error" }));
  }

  const titleField = meta.data.display || keyColumns(meta.data)[0];
  const recordTitle = (record: RecordBody | undefined) => display(record?.[titleField] ?? null);
  const changed = new Set(Object.keys(d.data));

  return (
    <section className="draft-page">
      <div className="toolbar">
        <h1>
          <Link to="/drafts">Drafts</Link> / #{d.id}:{" "}
          {pk === null ? (
            `new ${meta.data.label.toLowerCase()}`
          ) : (
            <Link to={`/r/${resource}/${encodeURIComponent(pk)}`}>
              {meta.data.label} {recordTitle(current.data)}
            </Link>
          )}
        </h1>
        <StatusBadge status={d.status} />
        <span className="muted" data-testid="draft-version">
          by {d.author?.name ?? "someone"} · draft version {d._version}
          {d.base_version !== null && ` · based on version ${d.base_version}`}
          {d.live_version !== null && d.live_version !== d.base_version && ` (live is at ${d.live_version})`}
        </span>
      </div>

      {d.publish_at && (
        <p className="notice" role="status" data-testid="scheduled">
          Scheduled to publish at {new Date(d.publish_at).toLocaleString()}.
        </p>
      )}
      {d.published_at && (
        <p className="notice" role="status">
          Published {new Date(d.published_at).toLocaleString()}
          {d.published_version !== null && ` as version ${d.published_version}`}.
        </p>
      )}
      {d.publish_error && (
        <div className="problem" role="alert" data-testid="publish-error">
          <strong>The draft could not be published:</strong> {d.publish_error.detail || d.publish_error.title}
          {d.publish_error.errors && (
            <ul>
              {d.publish_error.errors.map((x) => (
                <li key={x.field}>
                  {fields.find((f) => f.name === x.field)?.label ?? x.field}: {x.message}
                </li>
              ))}
            </ul>
          )}
          {d.publish_error.conflicts && d.publish_error.conflicts.length > 0 && (
            <p>
              {mayRebase
                ? "Choose per field which value to keep, then rebase and submit the draft again."
                : "Its author, or an editor, must rebase it onto the live record."}
            </p>
          )}
          {d.publish_error.conflicts && d.publish_error.conflicts.length > 0 && (
            <button type="button" className="secondary" onClick={() => setConflicts(d.publish_error?.conflicts ?? null)}>
              {mayRebase ? "Resolve and rebase…" : "Show the conflicts"}
            </button>
          )}
        </div>
      )}

      <div className="draft-grid">
        <section className="panel" aria-labelledby="diff-title">
          <h2 id="diff-title">Changes against the live record</h2>
          <DiffTable draft={d} fields={fields} onUnset={editable ? (name) => void unset(name) : undefined} />
        </section>
        <section className="panel" aria-labelledby="review-actions-title">
          <h2 id="review-actions-title">Review</h2>
          <ReviewActions draft={d} actions={actions} onDone={refresh} onConflicts={setConflicts} />
        </section>
      </div>

      <section className="panel" aria-labelledby="preview-title">
        <h2 id="preview-title">Preview</h2>
        <div className="side-by-side">
          <figure>
            <figcaption>Live{current.data ? ` (version ${current.data._version})` : ""}</figcaption>
            {pk === null ? (
              <p className="muted">A new {meta.data.label.toLowerCase()}: nothing is live yet.</p>
            ) : !current.data ? (
              <p role="status">Loading…</p>
            ) : meta.data.preview_url ? (
              <PreviewFrame url={meta.data.preview_url} record={current.data} title="Live page" />
            ) : (
              <RecordFields record={current.data} fields={fields} changed={changed} />
            )}
          </figure>
          <figure>
            <figcaption>With this draft</figcaption>
            {meta.data.preview_url ? (
              <PreviewFrame url={meta.data.preview_url} record={preview.data} title="Draft preview page" />
            ) : (
              <RecordFields record={preview.data} fields={fields} changed={changed} />
            )}
          </figure>
        </div>
      </section>

      <section className="panel" aria-labelledby="trail-title">
        <h2 id="trail-title">Review trail</h2>
        <ReviewTrail id={id} mayComment={actions.includes("comment")} />
      </section>

      <section className="panel" aria-labelledby="fields-title">
        <h2 id="fields-title">Fields</h2>
        {!editable && (
          <p className="muted">
            {d.status === "submitted" || d.status === "approved"
              ? "The draft is frozen while it is reviewed."
              : d.status === "draft" || d.status === "rejected"
                ? "You may not edit this draft."
                : `The draft is ${d.status}.`}
          </p>
        )}
        <form
          className="record"
          onSubmit={(e) => {
            e.preventDefault();
            void save(edits, d);
          }}
        >
          <FormErrors messages={problems.general} />
          {fields.map((f) => (
            <FieldInput
              key={f.name}
              field={f}
              value={value(f.name)}
              readOnly={!editable || f.read_only}
              error={problems.byField[f.name]}
              onChange={(v) =>
                setEdits((all) => {
                  const next = { ...all };
                  if (sameValue(v, preview.data[f.name], f.type)) delete next[f.name];
                  else next[f.name] = v;
                  return next;
                })
              }
            />
          ))}
          {failure && <NotSaved reason={failure} busy={saving} onRetry={() => void save(edits, d)} />}
          <div className="actions">
            {notice && (
              <p className="notice" role="status">
                {notice}
              </p>
            )}
            <span className="spacer" />
            {editable && (
              <button type="submit" disabled={!dirty || saving}>
                {saving ? "Saving…" : "Save draft"}
              </button>
            )}
          </div>
        </form>
      </section>

      {conflicts && (
        <ConflictDialog
          conflicts={conflicts}
          fields={fields}
          wording={{
            title: "The live record changed these fields",
            base: "When the draft started",
            theirs: "Live now",
            yours: "This draft",
            keepMine: "The draft's",
            keepTheirs: "Live value",
            apply: "Rebase",
            intro: mayRebase
              ? "The draft cannot be published over these changes. Choose per field, then rebase: the draft moves onto the live record and goes back to its author's hands, to be submitted again."
              : "The draft cannot be published over these changes. Its author, or an editor, must rebase it onto the live record.",
          }}
          onCancel={() => setConflicts(null)}
          onResolve={mayRebase ? rebase : undefined}
        />
      )}
    </section>
  );
}

function DiffTable({
  draft,
  fields,
  onUnset,
}: {
  draft: DraftDetail;
  fields: FieldMeta[];
  onUnset?: (name: string) => void;
}) {
  const rows = Object.entries(draft.diff);
  if (rows.length === 0) return <p className="muted">This draft changes nothing yet.</p>;
  return (
    <table className="grid compact" data-testid="draft-diff">
      <thead>
        <tr>
          <th>Field</th>
          <th>Live</th>
          <th>Draft</th>
          {onUnset && <th aria-label="Remove" />}
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, { live: was, draft: now }]) => {
          const field = fields.find((f) => f.name === name);
          return (
            <tr key={name} data-field={name}>
              <th scope="row">{field?.label ?? name}</th>
              <td className="diff-old">{display(was, field)}</td>
              <td className="diff-new">{display(now, field)}</td>
              {onUnset && (
                <td>
                  <button type="button" className="link" onClick={() => onUnset(name)}>
                    Remove from draft
                  </button>
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** A record's fields as a definition list, drafted ones marked. */
function RecordFields({ record, fields, changed }: { record: RecordBody; fields: FieldMeta[]; changed: Set<string> }) {
  return (
    <dl className="record-fields">
      {fields.map((f) => (
        <div key={f.name} className={changed.has(f.name) ? "changed" : undefined}>
          <dt>{f.label}</dt>
          <dd>{display(record[f.name] ?? null, f)}</dd>
        </div>
      ))}
    </dl>
  );
}
