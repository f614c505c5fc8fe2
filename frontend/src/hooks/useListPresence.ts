// Who else is on each row of a list, from the presence frames of the `r/{resource}`
// topic (`{type: "presence", topic, pk, users}`). The server sends the current sets
// right after each `subscribed` (also after a reconnect or a resync), so the map is
// emptied then and rebuilt from what follows. The signed-in user is left out.
import { useEffect, useState } from "react";
import { useSession } from "../auth";
import { live, type PresenceUser } from "../live";

export function useListPresence(resource: string): Map<string, PresenceUser[]> {
  const { user } = useSession();
  const [present, setPresent] = useState<Map<string, PresenceUser[]>>(new Map());

  useEffect(() => {
    const stop = live.subscribe(`r/${resource}`, (frame) => {
      if (frame.type === "subscribed") setPresent(new Map());
      else if (frame.type === "presence" && frame.pk !== undefined) {
        const pk = frame.pk;
        const others = frame.users.filter((u) => u.id !== user.id);
        setPresent((current) => {
          if (others.length === 0 && !current.has(pk)) return current;
          const next = new Map(current);
          if (others.length === 0) next.delete(pk);
          else next.set(pk, others);
          return next;
        });
      }
    });
    return stop;
  }, [resource, user.id]);

  return present;
}
