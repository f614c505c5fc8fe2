// The deleted view of a list (`deleted=only`): who deleted each record and
// when, and the way back (restore) or out (purge) for those allowed.
import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { Change, RecordBody, ResourceMeta } from "../../api/models";
import { relativeTime } from "../../format";
import { useToast } from "../../toasts";
import { ConfirmDialog } from "../Dialog";
import { reasonOf } from "../FormProblems";

/** Changes read to find the delete: it is the newest, unless someone wrote the row by SQL since. */
const HISTORY_READ = 5;

/** The change that deleted the record: the newest `delete` among its latest changes. */
export function useDeletion(resource: string, pk: string, deletedAt: string | null) {
  return useQuery({
    // Keyed by the deletion time: a record deleted again is a new question.
    queryKey: ["deletion", resource, pk, deletedAt],
    enabled: deletedAt !== null,
    staleTime: Infinity,
    queryFn: async (): Promise<Change | null> => {
      const page = await api.history(resource, pk, { limit: HISTORY_READ });
      return page.items.find((c) => c.op === "delete") ?? null;
    },
  });
}

/** Who deleted by name ("the database" for a change made outside the server). */
export function deleterName(change: Change | null | undefined): string | null {
  if (change === undefined) return null;
  if (change === null) return "someone";
  return change.actor?.name ?? "the database";
}

/** "deleted by Editor 3 minutes ago", the exact time in the tooltip. */
export function DeletedBy({ resource, pk, at }: { resource: string; pk: string; at: string | null }) {
  const deletion = useDeletion(resource, pk, at);
  if (at === null) return null;
  const when = new Date(at);
  const who = deleterName(deletion.data);
  return (
    <span className="deleted-by" title={`Deleted ${when.toLocaleString()}`}>
      {who === null ? "…" : `by ${who}`}, <time dateTime={at}>{relativeTime(when)}</time>
    </span>
  );
}

interface ActionsProps {
  meta: ResourceMeta;
  row: RecordBody;
  pk: string;
  /** How the record is named in messages (its display field). */
  name: string;
}

/** Restore and Purge… for one deleted record, each shown only with its action. */
export function TrashActions({ meta, row, pk, name }: ActionsProps) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const mayRestore = meta.actions.includes("restore");
  const mayPurge = meta.actions.includes("purge");
  const word = meta.label.toLowerCase();

  async function run(action: () => Promise<unknown>, done: string) {
    setBusy(true);
    setFailed(null);
    try {
      await action();
      toast(done, { tone: "success" });
      setConfirming(false);
      void queryClient.invalidateQueries({ queryKey: ["list", meta.name] });
      void queryClient.invalidateQueries({ queryKey: ["counts", meta.name] });
      void queryClient.invalidateQueries({ queryKey: ["record", meta.name, pk] });
    } catch (e) {
      // Shown where the user is looking: in the purge dialog, else as a toast.
      if (confirming) setFailed(reasonOf(e));
      else toast(reasonOf(e), { tone: "error" });
    } finally {
      setBusy(false);
    }
  }

  if (!mayRestore && !mayPurge) return null;
  return (
    <span className="row-actions">
      {mayRestore && (
        <button
          type="button"
          className="secondary small"
          disabled={busy}
          aria-label={`Restore ${name}`}
          onClick={() => void run(() => api.restore(meta.name, pk, row._version), `Restored ${word} “${name}”.`)}
        >
          Restore
        </button>
      )}
      {mayPurge && (
        <button type="button" className="secondary small danger-text" disabled={busy} aria-label={`Purge ${name}`} onClick={() => setConfirming(true)}>
          Purge…
        </button>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Purge ${word} “${name}”?`}
          confirm="Purge for good"
          danger
          busy={busy}
          onCancel={() => {
            setConfirming(false);
            setFailed(null);
          }}
          onConfirm={() => void run(() => api.purge(meta.name, pk, row._version), `Purged ${word} “${name}”.`)}
        >
          <p>It is removed from the database for good and cannot be restored. The audit log keeps its last values.</p>
          {failed && (
            <p className="error" role="alert">
              Not purged: {failed}
            </p>
          )}
        </ConfirmDialog>
      )}
    </span>
  );
}
