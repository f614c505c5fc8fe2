// The review buttons a user sees on a draft: each only when the user's
// actions on the resource and the draft's status allow it (the server
// checks both again). A publish that meets a changed live record hands its
// three-way conflicts to the page, which offers a rebase.
import { useState } from "react";
import { api, ProblemError } from "../../api/client";
import type { Action, Conflict, DraftDetail, DraftTransition } from "../../api/models";
import { useSession } from "../../auth";
import { useToast } from "../../toasts";
import { reasonOf } from "../FormProblems";

interface Props {
  draft: DraftDetail;
  actions: Action[];
  onDone: () => void;
  onConflicts: (conflicts: Conflict[]) => void;
}

const DONE: Record<DraftTransition | "publish" | "schedule", string> = {
  submit: "Submitted for review.",
  approve: "Approved.",
  reject: "Sent back to the author.",
  discard: "Discarded.",
  publish: "Published.",
  schedule: "Publish scheduled.",
};

export function ReviewActions({ draft, actions, onDone, onConflicts }: Props) {
  const { user } = useSession();
  const toast = useToast();
  const [comment, setComment] = useState("");
  const [publishAt, setPublishAt] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const status = draft.status;
  const mayEdit = actions.includes(draft.pk === null ? "add" : "change");
  const mayReview = actions.includes("publish");
  const open = status !== "published" && status !== "discarded";
  // A publish already met conflicts: submitting again unchanged would only meet them again.
  const mustRebase = Boolean(draft.publish_error?.conflicts?.length);
  const shown = {
    submit: (status === "draft" || status === "rejected") && mayEdit,
    approve: status === "submitted" && mayReview,
    reject: (status === "submitted" || status === "approved") && mayReview,
    publish: status === "approved" && mayReview,
    discard: open && (draft.author?.id === user.id || mayEdit || mayReview),
  };

  async function run(name: keyof typeof DONE, call: () => Promise<unknown>) {
    setBusy(true);
    setProblem(null);
    try {
      await call();
      setComment("");
      setPublishAt("");
      toast(DONE[name], { tone: "success" });
      onDone();
    } catch (e) {
      if (!(e instanceof ProblemError)) {
        setProblem(`Not done: ${reasonOf(e)}`);
        return;
      }
      if (e.status === 409 && e.problem.conflicts) onConflicts(e.problem.conflicts);
      const errors = e.problem.errors?.map((x) => `${x.field}: ${x.message}`).join("; ");
      setProblem(errors ? `${e.problem.detail} ${errors}` : e.problem.detail);
      onDone();
    } finally {
      setBusy(false);
    }
  }

  const transition = (name: DraftTransition) => () => void run(name, () => api.transitionDraft(String(draft.id), name, comment));
  if (!Object.values(shown).some(Boolean)) {
    return <p className="muted">{open ? "Nothing for you to do on this draft now." : `This draft is ${status}.`}</p>;
  }
  return (
    <div className="review-actions">
      <label htmlFor="review-comment">Comment (optional)</label>
      <textarea id="review-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
      {shown.publish && (
        <label className="inline-field">
          Publish at (optional){" "}
          <input type="datetime-local" value={publishAt} onChange={(e) => setPublishAt(e.target.value)} />
        </label>
      )}
      <div className="actions">
        {shown.discard && (
          <button type="button" className="secondary" disabled={busy} onClick={transition("discard")}>
            Discard
          </button>
        )}
        {shown.reject && (
          <button type="button" className="secondary" disabled={busy} onClick={transition("reject")}>
            Reject
          </button>
        )}
        <span className="spacer" />
        {shown.submit && (
          <button
            type="button"
            disabled={busy || mustRebase}
            title={mustRebase ? "Rebase the draft onto the live record first" : undefined}
            onClick={transition("submit")}
          >
            Submit for review
          </button>
        )}
        {shown.approve && (
          <button type="button" disabled={busy} onClick={transition("approve")}>
            Approve
          </button>
        )}
        {shown.publish && (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void run(publishAt ? "schedule" : "publish", () =>
                api.publishDraft(String(draft.id), comment, publishAt ? new Date(publishAt).toISOString() : null),
              )
            }
          >
            {publishAt ? "Schedule publish" : "Publish now"}
          </button>
        )}
      </div>
      {shown.submit && mustRebase && (
        <p className="muted" data-testid="rebase-first">
          Resolve the conflicts and rebase before submitting again.
        </p>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
