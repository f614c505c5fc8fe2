// The list toolbar's export links follow the list and say how many rows;
// the import entry is for those who may add or change, outside the trash.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import type { ResourceMeta } from "../../api/models";
import { IoButtons } from "./IoButtons";

afterEach(cleanup);

const courses: ResourceMeta = {
  name: "courses", label: "Course", label_plural: "Courses", pk: "id", display: "title", live: true,
  actions: ["view", "add", "change"], related: [], default_sort: ["title"], searchable: true, soft_delete: true,
  record_actions: [], preview_url: null, read_only_reason: null, derived: false, describes: null, fields: [],
};

function show(meta: ResourceMeta, total: number | null | undefined, trash = false) {
  render(
    <MemoryRouter>
      <IoButtons
        meta={meta}
        params={{ "filter[status][eq]": "open", q: "ice", ...(trash ? { deleted: "only" } : {}) }}
        sort="-start_date"
        columns={["title", "status"]}
        total={total}
        trash={trash}
      />
    </MemoryRouter>,
  );
}

describe("IoButtons", () => {
  it("links each format to the list's rows, with their number", () => {
    show(courses, 27);
    const csv = screen.getByRole("link", { name: "Export 27 rows as CSV" });
    expect(csv.getAttribute("href")).toBe(
      "/api/r/courses.csv?q=ice&sort=-start_date&filter[status][eq]=open&columns=title%2Cstatus",
    );
    expect(csv.hasAttribute("download")).toBe(true);
    expect(screen.getByRole("link", { name: "Export 27 rows as Excel" }).getAttribute("href")).toMatch(/^\/api\/r\/courses\.xlsx\?/);
    expect(screen.getByRole("link", { name: "Import…" }).getAttribute("href")).toBe("/r/courses/records/import");
  });

  it("says all matching rows when the total was not counted", () => {
    show(courses, null);
    expect(screen.getByRole("link", { name: "Export all matching rows as CSV" })).toBeTruthy();
  });

  it("offers no import to a reader, nor in the deleted view (whose export is of the deleted rows)", () => {
    show({ ...courses, actions: ["view"] }, 3);
    expect(screen.queryByRole("link", { name: "Import…" })).toBeNull();
    cleanup();
    show(courses, 3, true);
    expect(screen.queryByRole("link", { name: "Import…" })).toBeNull();
    expect(screen.getByRole("link", { name: "Export 3 rows as CSV" }).getAttribute("href")).toContain("deleted=only");
  });
});
