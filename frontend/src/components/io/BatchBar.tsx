// The drafts an import staged (/drafts?batch=ID): what they are, and for a
// reviewer who may publish them, one button that publishes the whole batch
// (approving the submitted drafts), all or none.
import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../../api/client";
import { useToast } from "../../toasts";

interface Props {
  batch: number;
  /** The batch's resource (its drafts'), when known. */
  resource: string | undefined;
  /** Whether the batch may still have drafts to publish (submitted or approved ones, or more to load). */
  pending: boolean;
}

export function BatchBar({ batch, resource, pending }: Props) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const described = meta.data?.resources.find((r) => r.name === resource);
  const mayPublish = described?.actions.includes("publish") ?? false;
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function publish() {
    setBusy(true);
    setProblem(null);
    try {
      const done = await api.publishDraftBatch(batch);
      toast(`Published ${done.published.length} draft${done.published.length === 1 ? "" : "s"}.`, { tone: "success" });
      await queryClient.invalidateQueries({ queryKey: ["drafts"] });
    } catch (error) {
      setProblem(error instanceof ProblemError ? error.problem.detail || error.problem.title : String(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="wizard-actions" data-testid="batch-bar">
      <p>
        The drafts of import batch {batch}
        {described ? ` (${described.label_plural.toLowerCase()})` : ""}: read, comment on or reject each; publishing
        the batch writes every pending one at once, or none.
      </p>
      {mayPublish && (
        <button type="button" onClick={() => void publish()} disabled={busy || !pending}>
          Publish the batch
        </button>
      )}
      {problem && (
        <p className="error" role="alert">
          Not published: {problem}
        </p>
      )}
    </div>
  );
}
