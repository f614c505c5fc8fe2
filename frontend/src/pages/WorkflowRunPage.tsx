// A workflow run as a checklist. Automatic steps follow the data (the server
// re-evaluates them as the records change and pushes the run on
// `workflow-runs/{id}`); manual steps have a checkbox. Steps that changed
// since the last frame flash briefly.
import { useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../api/client";
import { EMPTY_LIST_STATE, listStateSearch } from "../listState";
import type { StepLink, WorkflowRun, WorkflowStep } from "../api/models";
import { display, relativeTime } from "../format";
import { live } from "../live";
import { useToast } from "../toasts";
import { usePageTitle } from "../pageTitle";

const FLASH_MS = 2000;

export function WorkflowRunPage() {
  const { id = "" } = useParams();
  return <WorkflowRunPageOf key={id} id={id} />;
}

/** Where a step's work is done: the record focused on the field, or the list filtered to the subject. */
export function stepHref(link: StepLink): string | null {
  if (link.pk !== null) {
    return `/r/${link.resource}/${encodeURIComponent(link.pk)}${link.field ? `?field=${encodeURIComponent(link.field)}` : ""}`;
  }
  if (link.filter) {
    // The list's own address for that state (listState.ts): `?filter[course_id][eq]=42`.
    const filters = Object.entries(link.filter).map(([field, value]) => ({ field, op: "eq", value: String(value) }));
    return `/r/${link.resource}${listStateSearch({ ...EMPTY_LIST_STATE, filters })}`;
  }
  return null;
}

function changedSteps(before: WorkflowRun | undefined, after: WorkflowRun): string[] {
  if (!before) return [];
  const was = new Map(before.steps.map((s) => [s.key, s.done]));
  return after.steps.filter((s) => was.get(s.key) !== s.done).map((s) => s.key);
}

function WorkflowRunPageOf({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const run = useQuery({ queryKey: ["workflow-run", id], queryFn: () => api.workflowRun(id) });
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const subject = run.data?.subject;
  const record = useQuery({
    queryKey: ["record", subject?.resource, subject?.pk],
    enabled: Boolean(subject),
    queryFn: () => api.get(subject!.resource, subject!.pk),
  });
  usePageTitle(run.data?.title, "Checklists");
  const [flashing, setFlashing] = useState<Set<string>>(new Set());
  const timer = useRef<number | undefined>(undefined);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    const show = (next: WorkflowRun) => {
      const changed = changedSteps(queryClient.getQueryData<WorkflowRun>(["workflow-run", id]), next);
      queryClient.setQueryData(["workflow-run", id], next);
      void queryClient.invalidateQueries({ queryKey: ["workflow-runs"] });
      if (changed.length === 0) return;
      setFlashing(new Set(changed));
      window.clearTimeout(timer.current);
      timer.current = window.setTimeout(() => setFlashing(new Set()), FLASH_MS);
    };
    const stop = live.subscribe(`workflow-runs/${id}`, (frame) => {
      if (frame.type === "workflow") show(frame.run);
      else if (frame.type === "resync") void api.workflowRun(id).then(show);
    });
    return () => {
      stop();
      window.clearTimeout(timer.current);
    };
  }, [id, queryClient]);

  if (run.error) return <p className="error">{run.error.message}</p>;
  if (!run.data) return <p role="status">Loading…</p>;
  const r = run.data;
  const resources = meta.data?.resources ?? [];
  const subjectMeta = resources.find((m) => m.name === r.subject.resource);
  const mayWork = (subjectMeta?.actions.includes("change") ?? false) && r.status !== "cancelled";
  const titleField = subjectMeta?.display;
  const label = (resource: string, field: string | null) => {
    const m = resources.find((x) => x.name === resource);
    return {
      resource: m?.label ?? resource,
      plural: m?.label_plural ?? resource,
      field: m?.fields.find((f) => f.name === field)?.label ?? field,
    };
  };

  async function toggle(step: WorkflowStep) {
    setBusy(step.key);
    // Shown ticked at once; the server's answer (or a failure) settles it.
    const before = queryClient.getQueryData<WorkflowRun>(["workflow-run", id]);
    if (before) {
      const steps = before.steps.map((s) => (s.key === step.key ? { ...s, done: !step.done } : s));
      queryClient.setQueryData(["workflow-run", id], {
        ...before,
        steps,
        progress: { ...before.progress, done: steps.filter((s) => s.done).length },
      });
    }
    try {
      const next = await api.setStep(id, step.key, !step.done);
      queryClient.setQueryData(["workflow-run", id], next);
    } catch (e) {
      if (before) queryClient.setQueryData(["workflow-run", id], before);
      toast(e instanceof ProblemError ? e.problem.detail : String(e), { tone: "error" });
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="checklist-page">
      <div className="toolbar">
        <h1>
          <Link to="/workflow-runs">Checklists</Link> / {r.title}:{" "}
          <Link to={`/r/${r.subject.resource}/${encodeURIComponent(r.subject.pk)}`}>
            {subjectMeta?.label ?? r.subject.resource}{" "}
            {titleField && record.data ? display(record.data[titleField] ?? null) : `#${r.subject.pk}`}
          </Link>
        </h1>
        <span className={`pill pill-status pill-run-${r.status}`} data-testid="run-status">
          {r.status}
        </span>
      </div>
      <div className="progress-line">
        <progress max={r.progress.total} value={r.progress.done} aria-labelledby="progress-text" />
        <span id="progress-text" data-testid="run-progress">
          {r.progress.done} of {r.progress.total} done
        </span>
        <span className="muted">
          started by {r.started_by?.name ?? "someone"} {relativeTime(new Date(r.created_at))}
          {r.completed_at && `, completed ${relativeTime(new Date(r.completed_at))}`}
        </span>
      </div>
      <ol className="checklist" aria-label="Steps">
        {r.steps.map((step) => {
          const href = step.link ? stepHref(step.link) : null;
          const names = step.link ? label(step.link.resource, step.link.field) : null;
          return (
            <li
              key={step.key}
              data-step={step.key}
              data-done={step.done}
              className={`${step.done ? "done" : ""}${flashing.has(step.key) ? " flash" : ""}`}
            >
              {step.auto ? (
                // Not a control: it follows the data. A read-only checkbox for assistive tech.
                <span
                  role="checkbox"
                  className={`auto-check${step.done ? " on" : ""}`}
                  aria-checked={step.done}
                  aria-readonly="true"
                  aria-labelledby={`step-${step.key}-label`}
                  aria-describedby={`step-${step.key}-note`}
                >
                  {step.done ? "✓" : ""}
                </span>
              ) : (
                <input
                  type="checkbox"
                  id={`step-${step.key}`}
                  checked={step.done}
                  disabled={!mayWork}
                  aria-busy={busy === step.key || undefined}
                  aria-describedby={`step-${step.key}-note`}
                  onChange={() => void toggle(step)}
                />
              )}
              <div>
                <label id={`step-${step.key}-label`} htmlFor={step.auto ? undefined : `step-${step.key}`}>
                  {step.title}
                </label>
                <p className="muted" id={`step-${step.key}-note`}>
                  {step.auto ? "Follows the data" : "Ticked by a person"}
                  {step.done && step.done_by && ` · ticked by ${step.done_by.name}`}
                  {step.done && step.done_at && ` · ${relativeTime(new Date(step.done_at))}`}
                </p>
              </div>
              {href && names && (
                <Link className="step-link" to={href}>
                  {step.link?.pk === null
                    ? `Find ${names.plural.toLowerCase()}`
                    : names.field
                      ? `Edit ${names.field.toLowerCase()}`
                      : `Open ${names.resource.toLowerCase()}`}
                </Link>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
