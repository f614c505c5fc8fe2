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
};

export function DraftWatcher() {
  const { user } = useSession();
  const toast = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const mine = useQuery({
    queryKey: ["drafts", "mine-ids"],
    queryFn: () => api.drafts({ author: "me", limit: "200" }),
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
          toast(`${actor?.name ?? "The scheduler"} ${SAID[frame.event]} your draft #${id}.`, {
            tone: frame.event === "rejected" ? "error" : "info",
            action: { label: "Open", run: () => navigate(`/drafts/${id}`) },
          });
        }
      }),
    [queryClient, toast, navigate, user.id],
  );
  return null;
}
