import { useEffect, useRef, useState } from "react";
import { live, type LiveStatus } from "../live";
import { useToast } from "../toasts";

/**
 * "Reconnecting…" while the websocket is down. The connection resumes every
 * topic from its last cursor on its own, so nothing is reloaded; when it is
 * back, a toast says so.
 */
export function ConnectionIndicator() {
  const [status, setStatus] = useState<LiveStatus>(live.status);
  const toast = useToast();
  const previous = useRef<LiveStatus>(live.status);
  useEffect(
    () =>
      live.onState((next) => {
        if (previous.current === "reconnecting" && next === "open") toast("Live updates resumed.", { tone: "success" });
        previous.current = next;
        setStatus(next);
      }),
    [toast],
  );
  if (status !== "reconnecting") return null;
  return (
    <span className="connection" role="status" data-testid="reconnecting">
      <span className="dot" aria-hidden="true" /> Reconnecting…
    </span>
  );
}
