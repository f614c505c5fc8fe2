// The one websocket of this tab: subscriptions with resume cursors, presence,
// and reconnection with backoff. The messages are the OpenAPI document's
// `Frame` and `ClientMessage` components (collabadmin/hub/frames.py; docs/realtime.md).
import type { BulkOutcome, Change } from "./api/models";
import type { components } from "./api/schema";

type Schemas = components["schemas"];

export type PresenceUser = Schemas["PresenceUser"];
export type DraftRef = Schemas["DraftRef"];
/** `created`, `updated` (an edit), the draft's new status, or `publish_failed` (the draft carries publish_error). */
export type DraftEventName = Schemas["DraftFrame"]["event"];

/**
 * A frame that carries a change: its change as the app types it (Change in
 * api/models.ts, see there); a job's frame (`jobs/{id}`): its result as
 * BulkOutcome (field values as FieldValue, see there).
 */
type Typed<F> = F extends { change: Schemas["Change"] }
  ? Omit<F, "change"> & { change: Change }
  : F extends { type: "job" }
    ? Omit<F, "result"> & { result?: BulkOutcome }
    : F;

/**
 * A frame the server sends (the document's `Frame`). On a list topic
 * (`r/{resource}`) a presence frame names the row `pk` (an empty list:
 * nobody now); on a record topic it has no `pk`. This connection never asks
 * for batches (`?batch=1`), so a `batch` frame does not come.
 */
export type ServerFrame = Typed<Exclude<Schemas["Frame"], { type: "batch" }>>;

/** A message this client sends (the document's `ClientMessage`). */
export type ClientMessage = Schemas["ClientMessage"];

type Listener = (frame: ServerFrame) => void;

/**
 * idle: nothing followed yet; open: live; reconnecting: the socket dropped and
 * is being retried; signed-out: the server closed it because the session or
 * token that opened it ended (close code 4401), so retrying is pointless until
 * the person signs in again (then {@link LiveConnection.restart}).
 */
export type LiveStatus = "idle" | "connecting" | "open" | "reconnecting" | "signed-out";

/** The close code the server uses when a socket's credentials have ended. */
export const CREDENTIALS_ENDED = 4401;

export class LiveConnection {
  private socket: WebSocket | null = null;
  private listeners = new Map<string, Set<Listener>>();
  private cursors = new Map<string, string>();
  private presence = new Map<string, { state: PresenceUser["state"]; field: string | null }>();
  private backoff = 500;
  private statusListeners = new Set<(connected: boolean) => void>();
  private stateListeners = new Set<(status: LiveStatus) => void>();
  private current: LiveStatus = "idle";

  private setStatus(status: LiveStatus): void {
    if (status === this.current) return;
    this.current = status;
    this.stateListeners.forEach((l) => l(status));
  }

  get status(): LiveStatus {
    return this.current;
  }

  private url(): string {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${window.location.host}/api/ws`;
  }

  private connect(): void {
    if (this.socket) return;
    const socket = new WebSocket(this.url());
    this.socket = socket;
    if (this.current !== "reconnecting") this.setStatus("connecting");
    socket.onopen = () => {
      this.backoff = 500;
      this.setStatus("open");
      this.statusListeners.forEach((l) => l(true));
      for (const topic of this.listeners.keys()) this.sendSubscribe(topic);
      for (const [topic, p] of this.presence) this.send({ type: "presence", topic, ...p });
    };
    socket.onmessage = (event) => {
      const frame = JSON.parse(String(event.data)) as ServerFrame;
      if ("cursor" in frame && frame.type !== "subscribed") this.cursors.set(frame.topic, frame.cursor);
      if (frame.type === "subscribed" && !this.cursors.has(frame.topic)) this.cursors.set(frame.topic, frame.cursor);
      if (frame.type === "resync") this.cursors.delete(frame.topic);
      const topic = "topic" in frame ? frame.topic : null;
      if (topic) this.listeners.get(topic)?.forEach((l) => l(frame));
      // The server has dropped a topic it asks to resync: the listeners reload
      // what they show, and the topic is followed again from now on.
      if (frame.type === "resync" && this.listeners.has(frame.topic)) this.sendSubscribe(frame.topic);
    };
    socket.onclose = (event) => {
      this.socket = null;
      this.statusListeners.forEach((l) => l(false));
      if (event.code === CREDENTIALS_ENDED) {
        // Cursors are kept: after signing in again, restart() resumes every
        // topic from where it stopped, so nothing is missed.
        this.setStatus("signed-out");
        return;
      }
      this.setStatus(this.listeners.size > 0 ? "reconnecting" : "idle");
      if (this.listeners.size > 0) {
        window.setTimeout(() => this.connect(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 10_000);
      }
    };
  }

  private send(frame: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private sendSubscribe(topic: string): void {
    const since = this.cursors.get(topic);
    this.send(since ? { type: "subscribe", topic, since } : { type: "subscribe", topic });
  }

  /** Connect again after a sign-in, resuming every followed topic from its cursor. */
  restart(): void {
    if (this.current !== "signed-out") return;
    this.backoff = 500;
    this.setStatus(this.listeners.size > 0 ? "reconnecting" : "idle");
    if (this.listeners.size > 0) this.connect();
  }

  /** Follow a topic; resumes from the last cursor after a reconnect. Returns the unsubscribe. */
  subscribe(topic: string, listener: Listener): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
      if (this.current !== "signed-out") this.connect();
      this.sendSubscribe(topic);
    }
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) {
        this.listeners.delete(topic);
        this.cursors.delete(topic);
        this.presence.delete(topic);
        this.send({ type: "unsubscribe", topic });
      }
    };
  }

  announce(topic: string, state: "viewing" | "editing", field: string | null = null): void {
    this.presence.set(topic, { state, field });
    this.send({ type: "presence", topic, state, field });
  }

  /** Follow the connection's state (for the "Reconnecting…" indicator). */
  onState(listener: (status: LiveStatus) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onStatus(listener: (connected: boolean) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }
}

export const live = new LiveConnection();
