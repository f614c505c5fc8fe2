// A record page's live side: the changes others make to the record while it
// is open (its copy follows them; a field being edited here keeps the edit and
// says who changed it; an open conflict dialog follows too), who else is on
// the page, and a delete or purge by someone else.
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type Dispatch, type SetStateAction } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { Change, Conflict, FieldValue, RecordBody, User } from "../../api/models";
import { live, type PresenceUser } from "../../live";

/** The fields edited on the page and not saved yet, by name. */
export type Edits = Record<string, FieldValue>;

/** A field someone else changed while it was being edited here: by whom, to what. */
export type RemoteChanges = Record<string, { by: string; value: FieldValue }>;

/** Someone else deleted or purged the record while it was open. */
export interface Removed {
  op: "delete" | "purge";
  by: string;
}

/**
 * The open conflict set after someone saved again while it was shown: their
 * new values replace the old ones, and a field of mine they now changed too
 * joins the set. Fields stay in their order, so the dialog keeps its choices.
 */
export function mergeConflicts(
  open: Conflict[],
  changed: string[],
  fresh: RecordBody,
  before: RecordBody,
  mine: Edits,
): Conflict[] {
  const next = open.map((c) => (changed.includes(c.field) ? { ...c, theirs: fresh[c.field] ?? null } : c));
  for (const name of changed) {
    if (name in mine && !next.some((c) => c.field === name)) {
      next.push({ field: name, base: before[name] ?? null, theirs: fresh[name] ?? null, yours: mine[name] });
    }
  }
  return next;
}

export function useRecordLive(props: {
  resource: string;
  pk: string;
  user: User;
  /** The record as the page knows it, and the edits on it. */
  base: RecordBody | null;
  edits: Edits;
  setBase: (record: RecordBody) => void;
  setConflicts: Dispatch<SetStateAction<Conflict[] | null>>;
  /** Reads the record again (after a resync). */
  refetch: () => unknown;
}) {
  const { resource, pk, user, base, edits, setBase, setConflicts, refetch } = props;
  const queryClient = useQueryClient();
  const [others, setOthers] = useState<PresenceUser[]>([]);
  const [remote, setRemote] = useState<RemoteChanges>({});
  // Someone else deleted or purged the record while it was open: said so, edits kept on screen.
  const [removed, setRemoved] = useState<Removed | null>(null);
  const userId = user.id;
  const topic = `r/${resource}/${pk}`;
  // The live handler reads the latest state through refs, not a stale closure.
  const baseRef = useRef<RecordBody | null>(null);
  const editsRef = useRef<Edits>({});
  useLayoutEffect(() => {
    baseRef.current = base;
    editsRef.current = edits;
  });

  const onRemoteChange = useCallback(
    async (change: Change) => {
      const known = baseRef.current;
      // Said only of someone else's doing (this person's own delete may arrive before its response).
      const byOther = change.actor?.id !== userId;
      if (change.op === "purge") {
        // Gone for good: nothing to read again. The last copy and the edits stay on screen.
        if (byOther) setRemoved({ op: "purge", by: change.actor?.name ?? "Someone" });
        return;
      }
      if (known && change.version <= known._version) return; // our own save, or old news
      if (change.op === "delete" && byOther) setRemoved({ op: "delete", by: change.actor?.name ?? "Someone" });
      if (change.op === "restore") setRemoved(null);
      const fresh = await api.get(resource, pk);
      const mine = editsRef.current;
      const changed = Object.keys(change.diff);
      const clashes = changed.filter((name) => name in mine);
      // A conflict dialog that is open follows: new "theirs" values, new clashing fields.
      if (known) setConflicts((open) => (open ? mergeConflicts(open, changed, fresh, known, mine) : open));
      if (clashes.length > 0) {
        const by = change.actor?.name ?? "Someone";
        setRemote((current) => ({
          ...current,
          ...Object.fromEntries(clashes.map((name) => [name, { by, value: fresh[name] }])),
        }));
      }
      setBase(fresh);
      queryClient.setQueryData(["record", resource, pk], fresh);
      void queryClient.invalidateQueries({ queryKey: ["history", resource, pk] });
    },
    [resource, pk, queryClient, userId, setBase, setConflicts],
  );

  useEffect(() => {
    const stop = live.subscribe(topic, (frame) => {
      if (frame.type === "change") void onRemoteChange(frame.change);
      else if (frame.type === "presence") setOthers(frame.users.filter((u) => u.id !== user.id));
      else if (frame.type === "resync") void refetch();
    });
    live.announce(topic, "viewing");
    return stop;
  }, [topic, onRemoteChange, user.id, refetch]);

  return { topic, others, remote, setRemote, removed };
}
