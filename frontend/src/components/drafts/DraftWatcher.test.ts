import { describe, expect, it } from "vitest";
import { draftToast } from "./DraftWatcher";

describe("draftToast", () => {
  it("says a failed publish failed, not that the draft was edited", () => {
    const text = draftToast("publish_failed", "Rita Reviewer", 7);
    expect(text).toBe("Rita Reviewer could not publish your draft #7; open it to see why and rebase.");
    expect(text).not.toMatch(/edited/);
  });
  it("names the scheduler when nobody is named", () => {
    expect(draftToast("publish_failed", undefined, 3)).toMatch(/^The scheduler could not publish your draft #3/);
    expect(draftToast("approved", "Rita Reviewer", 3)).toBe("Rita Reviewer approved your draft #3.");
  });
});
