// A record's page: its fields in a form saved with its version (a conflict
// opens the dialog to choose, field by field), saved as a draft, deleted or
// restored; its history, related records, drafts, overviews and workflows.
// Its live side (others' changes, presence) is components/record/useRecordLive.
import { useCallback, useEffect, useMemo, useState } from "react";
import { useBlocker, useParams, useSearchParams } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../api/client";
import type { Conflict, FieldValue, RecordBody } from "../api/models";
import { useSession } from "../auth";
import { live } from "../live";
import { ConflictDialog, type Keep } from "../components/ConflictDialog";
import { FormErrors, NotSaved, reasonOf, splitErrors } from "../components/FormProblems";
import { HistoryPanel } from "../components/HistoryPanel";
import { LeaveDialog } from "../components/record/LeaveDialog";
import { RecordHeader, RemovedNote } from "../components/record/RecordHeader";
import { RemoteChangeNote } from "../components/record/RemoteChangeNote";
import { useRecordLive, type Edits } from "../components/record/useRecordLive";
import { useToast } from "../toasts";
import { editProblems } from "../fieldValues";
import { FieldInput } from "../components/FieldInput";
import { RecordDrafts } from "../components/drafts/RecordDrafts";
import { RelatedRecords, useUnsavedPanels } from "../components/related/RelatedRecords";
import { RecordActions } from "../components/RecordActions";
import { RecordWorkflows } from "../components/workflows/RecordWorkflows";
import { RecordOverviews } from "../components/views/RecordOverview";
import { useAfterFirstPaint } from "../hooks/useAfterFirstPaint";
import { sameValue } from "../datetime";
import { display } from "../format";
import { keyColumns } from "../recordKey";
import { usePageTitle } from "../pageTitle";
import { useRememberRecord } from "../recentRecords";

/** The newer of two copies of the record (by version); either may be missing. */
function newer(a: RecordBody | null, b: RecordBody | null | undefined): RecordBody | null {
  if (!a) return b ?? null;
  return b && b._version > a._version ? b : a;
}

/** One page per record: its edit state starts afresh when the record changes. */
export function RecordPage() {
  const { resource = "", pk = "" } = useParams();
  return <RecordPageOf key={`${resource}/${pk}`} resource={resource} pk={pk} />;
}

function RecordPageOf({ resource, pk }: { resource: string; pk: string }) {
  const toast = useToast();
  const [tab, setTab] = useState<"details" | "history">("details");
  const queryClient = useQueryClient();
  const meta = useQuery({ queryKey: ["describe", resource, pk], queryFn: () => api.describe(resource, pk) });
  const record = useQuery({ queryKey: ["record", resource, pk], queryFn: () => api.get(resource, pk) });
  const history = useQuery({ queryKey: ["history", resource, pk], queryFn: () => api.history(resource, pk) });
  const allMeta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const [searchParams] = useSearchParams();
  const focusField = searchParams.get("field");
  // The record as last learned from a save, a conflict or a live change; the
  // query's copy wins when it is newer (a refetch after a resync).
  const [known, setBase] = useState<RecordBody | null>(null);
  const base = newer(known, record.data);
  const [edits, setEdits] = useState<Edits>({});
  const [errors, setErrors] = useState<{ field: string; message: string }[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [conflicts, setConflicts] = useState<Conflict[] | null>(null);
  // A save that did not go through for another reason than the input: shown with a Retry.
  const [failure, setFailure] = useState<{ reason: string; retry: "save" | "draft" } | null>(null);
  const [saving, setSaving] = useState(false);
  const { user } = useSession();
  const { topic, others, remote, setRemote, removed } = useRecordLive({
    resource,
    pk,
    user,
    base,
    edits,
    setBase,
    setConflicts,
    refetch: record.refetch,
  });

  // A link to a field (a checklist step's) focuses its input once the form is there.
  const loaded = Boolean(meta.data && base);
  useEffect(() => {
    if (!loaded || !focusField) return;
    const input = document.getElementById(`field-${focusField}`);
    input?.focus();
    input?.closest(".field")?.classList.add("focused-by-link");
  }, [loaded, focusField]);

  const dirty = Object.keys(edits).length > 0;
  // Related rows being edited under the form (their panels guard a reload or close themselves).
  const [unsavedPanels, markPanel] = useUnsavedPanels();
  // Leaving the record with unsaved edits asks first (in-app links here, a reload or close below).
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) =>
      (dirty || unsavedPanels.length > 0) && currentLocation.pathname !== nextLocation.pathname,
  );
  useEffect(() => {
    if (!dirty) return;
    const guard = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, [dirty]);

  const refresh = useCallback(
    (saved: RecordBody) => {
      setBase(saved);
      queryClient.setQueryData(["record", resource, pk], saved);
      void queryClient.invalidateQueries({ queryKey: ["history", resource, pk] });
      void queryClient.invalidateQueries({ queryKey: ["list", resource] });
    },
    [queryClient, resource, pk],
  );

  const fields = useMemo(() => meta.data?.fields ?? [], [meta.data]);

  const save = useCallback(
    async (changes: Edits, against: RecordBody) => {
      if (Object.keys(changes).length === 0) return;
      // Typed values the browser already knows are wrong (JSON that does not parse, a
      // decimal with two points) are not sent; the edits stay, with the message by the field.
      const typed = editProblems(fields, changes);
      if (typed.length > 0) return setErrors(typed);
      setSaving(true);
      setErrors([]);
      setNotice(null);
      setFailure(null);
      try {
        const saved = await api.patch(resource, pk, changes, against._version);
        refresh(saved);
        setEdits({});
        setNotice(`Saved (version ${saved._version}).`);
      } catch (e) {
        if (e instanceof ProblemError && e.status === 409 && e.problem.conflicts && e.problem.current) {
          setBase(e.problem.current);
          setConflicts(e.problem.conflicts);
        } else if (e instanceof ProblemError && e.problem.errors && e.problem.errors.length > 0) {
          setErrors(e.problem.errors);
        } else {
          // Not reached, refused or failed: the edits stay in the form, Retry sends them
          // again (against the newest copy of the record this page knows by then).
          setFailure({ reason: reasonOf(e), retry: "save" });
        }
      } finally {
        setSaving(false);
      }
    },
    [resource, pk, refresh, fields],
  );

  const saveAsDraft = useCallback(
    async (changes: Edits) => {
      const typed = editProblems(fields, changes);
      if (typed.length > 0) return setErrors(typed);
      setSaving(true);
      setErrors([]);
      setNotice(null);
      setFailure(null);
      try {
        const draft = await api.createDraft(resource, pk, changes);
        setEdits({});
        setNotice(`Saved as draft #${draft.id}; the record is unchanged.`);
        void queryClient.invalidateQueries({ queryKey: ["drafts"] });
      } catch (e) {
        if (e instanceof ProblemError && e.problem.errors && e.problem.errors.length > 0) {
          setErrors(e.problem.errors.map((x) => ({ ...x, field: x.field.replace(/^data\./, "") })));
        } else {
          setFailure({ reason: reasonOf(e), retry: "draft" });
        }
      } finally {
        setSaving(false);
      }
    },
    [resource, pk, queryClient, fields],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
        e.preventDefault();
        if (base) void save(edits, base);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [base, edits, save]);

  // Named by its display field (ResourceMeta.display), in the heading and the tab's title.
  const name = base && meta.data ? display(base[meta.data.display] ?? base[keyColumns(meta.data)[0]] ?? null) : undefined;
  usePageTitle(name, meta.data?.label_plural);
  useRememberRecord(user.id, resource, pk, name);
  const problems = splitErrors(errors, fields);
  // The form first: the related records and the panels below it come the frame after.
  const extrasShown = useAfterFirstPaint(loaded);
  // A record that answers 404 once it was shown (purged while this tab was away, then
  // re-read after a reconnect) is gone too: the last copy and the edits stay on screen.
  const vanished = record.error instanceof ProblemError && record.error.status === 404 && base !== null;
  const gone = removed?.op === "purge" || vanished ? { by: removed?.by ?? "Someone" } : null;
  if (meta.error || (record.error && !gone)) return <p className="error">{(meta.error ?? record.error)?.message}</p>;
  if (!meta.data || !base) return <p role="status">Loading…</p>;
  const canChange = meta.data.actions.includes("change") && base._deleted_at === null && !gone;
  const value = (name: string): FieldValue => (name in edits ? edits[name] : base[name]);

  function resolve(choice: Record<string, Keep>) {
    if (!base) return;
    const next: Edits = {};
    for (const [name, v] of Object.entries(edits)) {
      if (choice[name] !== "theirs") next[name] = v;
    }
    setConflicts(null);
    setEdits(next);
    void save(next, base);
  }

  async function restore(version: number) {
    try {
      refresh(await api.restore(resource, pk, version));
      toast("Restored.", { tone: "success" });
    } catch (e) {
      toast(e instanceof ProblemError ? e.problem.detail : String(e), { tone: "error" });
    }
  }

  async function toggleDeleted() {
    if (!base) return;
    if (base._deleted_at !== null) {
      await restore(base._version);
      return;
    }
    try {
      const saved = await api.remove(resource, pk, base._version);
      refresh(saved);
      const where = meta.data ? ` It stays under ${meta.data.label_plural} › Deleted.` : "";
      toast(`Deleted ${meta.data?.label.toLowerCase() ?? "record"} ${pk}.${where}`, {
        action: { label: "Undo", run: () => void restore(saved._version) },
      });
    } catch (e) {
      setNotice(e instanceof ProblemError ? e.problem.detail : String(e));
    }
  }

  return (
    <section className="record">
      <RecordHeader resource={resource} pk={pk} meta={meta.data} record={base} name={name} others={others} gone={gone} />
      <RemovedNote meta={meta.data} record={base} removed={removed} gone={gone} dirty={dirty} />
      <RecordActions
        resource={resource}
        pk={pk}
        actions={meta.data.record_actions}
        record={base}
        fields={fields}
        onDone={(saved, action) => {
          refresh(saved);
          toast(`${action.label}: done.`, { tone: "success" });
        }}
        onCurrent={(current) => {
          setBase(current);
          queryClient.setQueryData(["record", resource, pk], current);
        }}
      />
      <div className="tabs" role="tablist" aria-label="Record">
        <button type="button" role="tab" id="tab-details" aria-selected={tab === "details"} aria-controls="panel-details" onClick={() => setTab("details")}>
          Details
        </button>
        <button type="button" role="tab" id="tab-history" aria-selected={tab === "history"} aria-controls="panel-history" onClick={() => setTab("history")}>
          History{history.data ? ` (${history.data.items.length}${history.data.next_cursor ? "+" : ""})` : ""}
        </button>
      </div>
      <form
        id="panel-details"
        role="tabpanel"
        aria-labelledby="tab-details"
        hidden={tab !== "details"}
        onSubmit={(e) => {
          e.preventDefault();
          void save(edits, base);
        }}
      >
        <FormErrors messages={problems.general} />
        {!meta.data.actions.includes("change") && (
          <p className="read-only-reason" data-testid="view-only">
            You may view this {meta.data.label.toLowerCase()}, not change it.
          </p>
        )}
        {fields.map((f) => (
          <FieldInput
            key={f.name}
            field={f}
            value={value(f.name)}
            readOnly={!canChange || f.read_only}
            readOnlyReason={canChange ? f.read_only_reason : undefined}
            error={problems.byField[f.name]}
            editors={others.filter((u) => u.state === "editing" && u.field === f.name).map((u) => u.name)}
            onFocusChange={(focused) => live.announce(topic, focused ? "editing" : "viewing", focused ? f.name : null)}
            onChange={(v) => {
              // A message about the old value goes; one about the new shows as it is typed (FieldInput).
              setErrors((current) => (current.some((x) => x.field === f.name) ? current.filter((x) => x.field !== f.name) : current));
              setEdits((current) => {
                const next = { ...current };
                if (sameValue(v, base[f.name], f.type)) delete next[f.name];
                else next[f.name] = v;
                return next;
              });
            }}
          >
            {remote[f.name] && (
              <RemoteChangeNote
                field={f}
                change={remote[f.name]}
                onTakeTheirs={() => {
                  setEdits((current) => {
                    const next = { ...current };
                    delete next[f.name];
                    return next;
                  });
                  setRemote(({ [f.name]: _, ...rest }) => rest);
                }}
                onKeepMine={() => setRemote(({ [f.name]: _, ...rest }) => rest)}
              />
            )}
          </FieldInput>
        ))}
        {failure && (
          <NotSaved
            reason={failure.reason}
            busy={saving}
            onRetry={() => void (failure.retry === "save" ? save(edits, base) : saveAsDraft(edits))}
          />
        )}
        <div className="actions">
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          <span className="spacer" />
          {!gone && meta.data.soft_delete && (meta.data.actions.includes("delete") || meta.data.actions.includes("restore")) && (
            <button type="button" className="secondary" onClick={() => void toggleDeleted()}>
              {base._deleted_at === null ? "Delete" : "Restore"}
            </button>
          )}
          {canChange && (
            <button type="button" className="secondary" disabled={!dirty || saving} onClick={() => void saveAsDraft(edits)}>
              Save as draft
            </button>
          )}
          {canChange && (
            <button type="submit" disabled={!dirty || saving}>
              {saving ? "Saving…" : "Save"}
            </button>
          )}
        </div>
      </form>
      {extrasShown && (
        <>
          <RelatedRecords meta={meta.data} record={base} hidden={tab !== "details"} onUnsaved={markPanel} />
          <div className="dash record-extras" hidden={tab !== "details"}>
            <RecordOverviews resource={resource} pk={pk} resources={allMeta.data?.resources ?? []} />
            <RecordDrafts resource={resource} pk={pk} />
            {(allMeta.data?.workflows ?? []).some((w) => w.subject === resource) && (
              <RecordWorkflows
                resource={resource}
                pk={pk}
                workflows={(allMeta.data?.workflows ?? []).filter((w) => w.subject === resource)}
                mayStart={canChange}
              />
            )}
          </div>
        </>
      )}
      <div id="panel-history" role="tabpanel" aria-labelledby="tab-history" hidden={tab !== "history"}>
        {/* Hidden behind its tab: rendered with the panels below the form, or when chosen first. */}
        {(extrasShown || tab === "history") && (
          <HistoryPanel
            resource={resource}
            pk={pk}
            changes={history.data?.items}
            loading={history.isLoading}
            fields={fields}
            canRevert={canChange}
            onReverted={refresh}
          />
        )}
      </div>
      {blocker.state === "blocked" && (
        <LeaveDialog
          unsaved={[...Object.keys(edits).map((n) => fields.find((f) => f.name === n)?.label ?? n), ...unsavedPanels]}
          onLeave={() => blocker.proceed()}
          onStay={() => blocker.reset()}
        />
      )}
      {conflicts && (
        <ConflictDialog conflicts={conflicts} fields={fields} onResolve={resolve} onCancel={() => setConflicts(null)} />
      )}
    </section>
  );
}
