import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { reasonOf } from "../FormProblems";
import { relativeTime } from "../../format";

const VERBS: Record<string, string> = {
  created: "started the draft",
  commented: "commented",
  submit: "submitted it for review",
  approve: "approved it",
  reject: "rejected it",
  discard: "discarded it",
  published: "published it",
  scheduled: "scheduled the publish",
  publish_failed: "tried to publish it; it failed",
  rebased: "rebased it onto the live record",
};

/** Who moved the draft from which status to which, with their comments; and a box to add one. */
export function ReviewTrail({ id, mayComment }: { id: string; mayComment: boolean }) {
  const queryClient = useQueryClient();
  const trail = useQuery({ queryKey: ["draft-comments", id], queryFn: () => api.draftComments(id) });
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  async function add() {
    setProblem(null);
    try {
      const body = await api.commentDraft(id, text);
      queryClient.setQueryData(["draft-comments", id], body);
      setText("");
    } catch (e) {
      setProblem(reasonOf(e));
    }
  }

  return (
    <>
      {trail.isLoading && <p role="status">Loading…</p>}
      {trail.error && <p className="error">{trail.error.message}</p>}
      {trail.data && trail.data.items.length === 0 && <p className="muted">No reviews or comments yet.</p>}
      {trail.data && trail.data.items.length > 0 && (
        <ol className="trail" data-testid="review-trail">
          {trail.data.items.map((e) => (
            <li key={e.id}>
              <strong>{e.actor?.name ?? "The scheduler"}</strong> {VERBS[e.action] ?? e.action}
              {e.to_status && e.from_status !== e.to_status && (
                <span className="muted">
                  {" "}
                  ({e.from_status ?? "new"} → {e.to_status})
                </span>
              )}{" "}
              <time className="muted" dateTime={e.at} title={new Date(e.at).toLocaleString()}>
                {relativeTime(new Date(e.at))}
              </time>
              {e.comment && <blockquote>{e.comment}</blockquote>}
            </li>
          ))}
        </ol>
      )}
      {mayComment && (
        <form
          className="inline comment-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim()) void add();
          }}
        >
          <label htmlFor="new-comment" className="sr-only">
            New comment
          </label>
          <input id="new-comment" placeholder="Write a comment…" value={text} onChange={(e) => setText(e.target.value)} />
          <button type="submit" className="secondary" disabled={!text.trim()}>
            Comment
          </button>
        </form>
      )}
      {problem && <p className="error">{problem}</p>}
    </>
  );
}
