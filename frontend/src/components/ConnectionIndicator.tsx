import { useEffect, useRef, useState } from "react";
import { live, type LiveStatus } from "../live";
import { useToast } from "../toasts";

/**
 * "Reconnecting…" while the websocket is down. The connection resumes every
 * topic from its last cursor on its own, so nothing is reloaded; when it is
 * back, a toast says so.
 *
 * When the server ends the socket because the session ended (logout
 * elsewhere, expiry, idle timeout, a changed password), nothing is retried:
 * the page stays as it is, with any edits in it, and says so. Signing in
 * again in another tab and pressing Reconnect resumes from the same cursors.
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
  if (status === "signed-out") {
    return (
      <span className="connection" role="alert" data-testid="signed-out">
        Your session has ended: live updates stopped and saving will fail.{" "}
        <a href="/login" target="_blank" rel="noopener">
          Sign in again
        </a>{" "}
        (your edits here are kept), then{" "}
        <button type="button" className="link" onClick={() => live.restart()}>
          reconnect
        </button>
        .
      </span>
    );
  }
  if (status !== "reconnecting") return null;
  return (
    <span className="connection" role="status" data-testid="reconnecting">
      <span className="dot" aria-hidden="true" /> Reconnecting…
    </span>
  );
}
