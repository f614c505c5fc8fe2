import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CREDENTIALS_ENDED, LiveConnection, type LiveStatus } from "./live";

/** A stand-in for the browser's WebSocket that the test opens and closes by hand. */
class FakeSocket {
  static OPEN = 1;
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.made.push(this);
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  receive(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  close(code: number) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

describe("LiveConnection when its credentials end", () => {
  beforeEach(() => {
    FakeSocket.made = [];
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("does not retry after 4401, and resumes from the cursor after restart()", () => {
    const connection = new LiveConnection();
    const states: LiveStatus[] = [];
    connection.onState((s) => states.push(s));
    connection.subscribe("r/courses/1", () => undefined);
    const first = FakeSocket.made[0];
    first.open();
    first.receive({ type: "subscribed", topic: "r/courses/1", cursor: "c1" });
    first.receive({ type: "change", topic: "r/courses/1", cursor: "c2", change: {} });

    first.close(CREDENTIALS_ENDED);
    expect(connection.status).toBe("signed-out");
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1); // no reconnect loop against a dead session

    connection.restart();
    expect(FakeSocket.made).toHaveLength(2);
    const second = FakeSocket.made[1];
    second.open();
    expect(second.sent).toContainEqual({ type: "subscribe", topic: "r/courses/1", since: "c2" });
    expect(states).toEqual(["connecting", "open", "signed-out", "reconnecting", "open"]);
  });

  it("keeps retrying with backoff when the socket merely dropped", () => {
    const connection = new LiveConnection();
    connection.subscribe("drafts", () => undefined);
    FakeSocket.made[0].open();
    FakeSocket.made[0].close(1006);
    expect(connection.status).toBe("reconnecting");
    vi.advanceTimersByTime(600);
    expect(FakeSocket.made).toHaveLength(2);
  });
});
