// A list followed live: rows read before the list followed its topic (the
// first page the page's first script asked for, or a list cached from a
// moment ago) are read again once the server confirms the subscription, so
// a change made in between is not missed; rows read after are left alone.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, renderHook, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider, useInfiniteQuery, type InfiniteData } from "@tanstack/react-query";
import type { ReactNode } from "react";
import type { Page } from "../api/models";
import type { ServerFrame } from "../live";

const listeners = new Map<string, (frame: ServerFrame) => void>();
vi.mock("../live", () => ({
  live: {
    subscribe: (topic: string, listener: (frame: ServerFrame) => void) => {
      listeners.set(topic, listener);
      return () => listeners.delete(topic);
    },
  },
}));

const { useLiveList } = await import("./useLiveList");

afterEach(() => {
  cleanup();
  listeners.clear();
});

const META = { pk: "id", fields: [] };
const page = (title: string): Page => ({ items: [{ id: 1, title, _version: 1 }], next_cursor: null, total: 1 }) as unknown as Page;
const KEY = ["list", "courses", "title", "{}"];

function mount(client: QueryClient, read: () => Promise<Page>) {
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={client}>{children}</QueryClientProvider>;
  return renderHook(
    () => {
      useLiveList("courses", META, new Set());
      return useInfiniteQuery({ queryKey: KEY, initialPageParam: null, queryFn: read, getNextPageParam: () => null, staleTime: 10_000 });
    },
    { wrapper },
  );
}

const subscribed = (): void =>
  listeners.get("r/courses")!({ type: "subscribed", topic: "r/courses", cursor: "c1" } as ServerFrame);

describe("useLiveList", () => {
  it("reads rows read before it followed the topic again once followed", async () => {
    const client = new QueryClient();
    client.setQueryData<InfiniteData<Page>>(KEY, { pages: [page("read early")], pageParams: [null] }, { updatedAt: Date.now() - 500 });
    const read = vi.fn(async () => page("read again"));
    const { result } = mount(client, read);
    expect(result.current.data?.pages[0].items[0].title).toBe("read early"); // shown at once, fresh enough
    expect(read).not.toHaveBeenCalled();
    subscribed();
    await waitFor(() => expect(result.current.data?.pages[0].items[0].title).toBe("read again"));
    subscribed(); // a reconnect resumes from its cursor: nothing read again
    expect(read).toHaveBeenCalledTimes(1);
  });

  it("leaves rows read after it followed the topic alone", async () => {
    const client = new QueryClient();
    const read = vi.fn(async () => page("read once"));
    const { result } = mount(client, read);
    await waitFor(() => expect(result.current.data?.pages[0].items[0].title).toBe("read once"));
    subscribed();
    expect(read).toHaveBeenCalledTimes(1);
    expect(client.getQueryState(KEY)?.isInvalidated).toBe(false);
  });
});
