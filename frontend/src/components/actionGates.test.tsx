// Controls that write what others see appear only with the action that allows it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { api } from "../api/client";
import { SessionContext, type Session } from "../auth";
import type { DraftDetail } from "../api/models";
import { ReviewActions } from "./drafts/ReviewActions";
import { ReviewTrail } from "./drafts/ReviewTrail";
import { ViewTabs } from "./list/ViewTabs";

afterEach(cleanup);

function wrap(children: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const session: Session = { user: { id: 1, username: "viewer", name: "Viewer", roles: ["viewer"] }, signOut: async () => {} };
  return (
    <QueryClientProvider client={client}>
      <SessionContext.Provider value={session}>{children}</SessionContext.Provider>
    </QueryClientProvider>
  );
}

const config = { columns: [], sort: "", filters: [] };

describe("share_view", () => {
  it("offers Save as new view only with the action", () => {
    const tabs = (mayShare: boolean) => (
      <ViewTabs resource="courses" views={[]} active={null} missing={false} config={config} modified={false} onChoose={() => {}} mayShare={mayShare} />
    );
    const { rerender } = render(wrap(tabs(false)));
    expect(screen.getByRole("tab", { name: "My view" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Save as new view…" })).toBeNull();
    rerender(wrap(tabs(true)));
    expect(screen.getByRole("button", { name: "Save as new view…" })).toBeTruthy();
  });
});

describe("comment", () => {
  it("shows the comment box only with the action", async () => {
    vi.spyOn(api, "draftComments").mockResolvedValue({ items: [] });
    const { rerender } = render(wrap(<ReviewTrail id="1" mayComment={false} />));
    expect(await screen.findByText("No reviews or comments yet.")).toBeTruthy();
    expect(screen.queryByLabelText("New comment")).toBeNull();
    rerender(wrap(<ReviewTrail id="1" mayComment />));
    expect(screen.getByLabelText("New comment")).toBeTruthy();
  });
});

describe("a draft whose publish met conflicts", () => {
  it("asks for a rebase before it can be submitted again", () => {
    const draft: DraftDetail = {
      id: 7, resource: "courses", pk: "5", base_version: 1, status: "rejected", data: { title: "Draft title" },
      author: { id: 1, name: "Viewer" }, created_at: "", updated_at: "", publish_at: null, published_at: null,
      published_version: null, _version: 4, live_version: 2, diff: {},
      publish_error: { type: "about:blank", title: "Conflict", status: 409, detail: "The live record changed.",
        conflicts: [{ field: "title", base: "Old", theirs: "Live title", yours: "Draft title" }] },
    };
    const { rerender } = render(
      wrap(<ReviewActions draft={draft} actions={["view", "change"]} onDone={() => {}} onConflicts={() => {}} />),
    );
    expect((screen.getByRole("button", { name: "Submit for review" }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("rebase-first")).toBeTruthy();
    rerender(
      wrap(<ReviewActions draft={{ ...draft, publish_error: null }} actions={["view", "change"]} onDone={() => {}} onConflicts={() => {}} />),
    );
    expect((screen.getByRole("button", { name: "Submit for review" }) as HTMLButtonElement).disabled).toBe(false);
  });
});
