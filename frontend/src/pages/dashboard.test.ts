import { describe, expect, it } from "vitest";
import type { WorkflowRun } from "../api/models";
import { byDueDate } from "./Dashboard";

const run = (id: number, due_date: string | null) => ({ id, due_date }) as WorkflowRun;

describe("checklists on the dashboard", () => {
  it("come soonest due first, undated last, in a stable order", () => {
    const sorted = byDueDate([run(1, null), run(2, "2026-12-05"), run(3, "2026-11-01"), run(4, null), run(5, "2026-12-05")]);
    expect(sorted.map((r) => r.id)).toEqual([3, 2, 5, 1, 4]);
  });
});
