import { describe, expect, it } from "vitest";
import { changeLink } from "./AuditPage";

describe("audit links", () => {
  it("open drafts and checklist runs on their own pages, records on theirs", () => {
    expect(changeLink({ resource: "drafts", pk: "7" })).toBe("/drafts/7");
    expect(changeLink({ resource: "workflow_runs", pk: "3" })).toBe("/workflow-runs/3");
    expect(changeLink({ resource: "courses", pk: "42" })).toBe("/r/courses/42");
    expect(changeLink({ resource: "film_actor", pk: "1,23" })).toBe("/r/film_actor/1%2C23");
  });
});
