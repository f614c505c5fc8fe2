// Follows the `drafts` topic for the whole tab: every draft event refreshes
// the lists and the draft's own page wherever they are shown, and an event
// on one of your drafts by someone else is announced in a toast.
import { useEffect, useRef } from "react";
import { useNavigate } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { useSession } from "../../auth";
import { live, type DraftEventName } from "../../live";
import { useToast } from "../../toasts";

const SAID: Record<DraftEventName, string> = {
  created: "started",
  updated: "edited",
  submitted: "submitted",
  approved: "approved",
  rejected: "rejected",
  published: "published",
  discarded: "discarded",
  publish_failed: "could not publish",
};

/** The toast for an event on one of your drafts by someone else. */
export function draftToast(event: DraftEventName, actor: string | undefined, id: number): string {
  if (event === "publish_failed") {
    // Not an edit: the record changed under the draft (or it no longer passes); the draft page says why.
    return `${actor ?? "The scheduler"} could not publish your draft #${id}; open it to see why and rebase.`;
  }
  return `${actor ?? "The scheduler"} ${SAID[event]} your draft #${id}.`;
}

export function DraftWatcher() {
  const { user } = useSession();
  const toast = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const mine = useQuery({
    queryKey: ["drafts", "mine-ids"],
    queryFn: () => api.drafts({ author: "me", limit: 200 }),
    staleTime: 60_000,
  });
  const myIds = useRef(new Set<number>());
  useEffect(() => {
    for (const d of mine.data?.items ?? []) myIds.current.add(d.id);
  }, [mine.data]);

  useEffect(
    () =>
      live.subscribe("drafts", (frame) => {
        if (frame.type === "resync") {
          void queryClient.invalidateQueries({ queryKey: ["drafts"] });
          return;
        }
        if (frame.type !== "draft") return;
        const id = frame.draft.id;
        const actor = frame.change.actor;
        if (frame.event === "created" && actor?.id === user.id) myIds.current.add(id);
        void queryClient.invalidateQueries({ queryKey: ["drafts"] });
        if (frame.event === "published" && frame.draft.pk !== null) {
          void queryClient.invalidateQueries({ queryKey: ["record", frame.draft.resource, frame.draft.pk] });
        }
        if (myIds.current.has(id) && actor?.id !== user.id) {
          toast(draftToast(frame.event, actor?.name, id), {
            tone: frame.event === "rejected" || frame.event === "publish_failed" ? "error" : "info",
            action: { label: "Open", run: () => navigate(`/drafts/${id}`) },
          });
        }
      }),
    [queryClient, toast, navigate, user.id],
  );
  return null;
}
