// The checklists of a record: its runs (with progress), and a button to start
// each workflow whose subject is this resource and that has no live run yet.
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../../api/client";
import type { WorkflowSummary } from "../../api/models";

export function RecordWorkflows({
  resource,
  pk,
  workflows,
  mayStart,
}: {
  resource: string;
  pk: string;
  workflows: WorkflowSummary[];
  mayStart: boolean;
}) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const runs = useQuery({
    queryKey: ["workflow-runs", "subject", resource, pk],
    queryFn: () => api.workflowRuns({ subject_resource: resource, subject_pk: pk }),
  });
  const [problem, setProblem] = useState<{ text: string; runId?: number } | null>(null);

  async function start(workflow: WorkflowSummary) {
    setProblem(null);
    try {
      const run = await api.startWorkflow(workflow.name, resource, pk);
      void queryClient.invalidateQueries({ queryKey: ["workflow-runs"] });
      navigate(`/workflow-runs/${run.id}`);
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e;
      const runId = typeof e.problem.run_id === "number" ? e.problem.run_id : undefined;
      setProblem({ text: e.problem.detail, runId });
    }
  }

  const live = (runs.data?.items ?? []).filter((r) => r.status !== "cancelled");
  const startable = workflows.filter((w) => !live.some((r) => r.workflow === w.name));
  return (
    <section className="panel" aria-labelledby="record-runs-title" data-testid="record-workflows">
      <h2 id="record-runs-title">Checklists</h2>
      {runs.data && runs.data.items.length === 0 && <p className="muted">No checklist has been started.</p>}
      {runs.data && runs.data.items.length > 0 && (
        <ul className="activity">
          {runs.data.items.map((r) => (
            <li key={r.id}>
              <Link to={`/workflow-runs/${r.id}`}>{r.title}</Link>{" "}
              <span className="muted">
                {r.progress.done} of {r.progress.total} done · {r.status}
              </span>
            </li>
          ))}
        </ul>
      )}
      {mayStart &&
        startable.map((w) => (
          <button key={w.name} type="button" className="secondary" onClick={() => void start(w)}>
            Start checklist: {w.title}
          </button>
        ))}
      {problem && (
        <p className="error" role="alert">
          {problem.text}{" "}
          {problem.runId !== undefined && <Link to={`/workflow-runs/${problem.runId}`}>Open the running checklist</Link>}
        </p>
      )}
    </section>
  );
}
