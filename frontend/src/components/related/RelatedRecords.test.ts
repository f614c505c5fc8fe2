import { describe, expect, it } from "vitest";
import type { FieldMeta, Meta, RelatedMeta, ResourceMeta } from "../../api/models";
import { shownLinks } from "./RelatedRecords";

const f = (name: string): FieldMeta => ({ name, type: "integer", label: name, required: false, read_only: false, operators: [] });
const table = (name: string, fields: string[]): ResourceMeta => ({
  name, label: name, label_plural: name, pk: "id", display: "id", live: true, actions: ["view"], related: [],
  default_sort: [], searchable: false, soft_delete: true, record_actions: [], preview_url: null, read_only_reason: null, derived: false, describes: null, fields: ["id", ...fields].map(f),
});
const sessions: RelatedMeta = { resource: "sessions", field: "course_id", label: "Sessions" };
const links: RelatedMeta = { resource: "course_instructors", field: "course_id", label: "Course instructors" };
const instructors: RelatedMeta = {
  resource: "instructors", field: "course_id", label: "Instructors", through: { resource: "course_instructors", field: "instructor_id" },
};

describe("shownLinks", () => {
  it("leaves out the table of a link table whose rows hold only the two keys: its chips say it all", () => {
    const meta: Meta = { resources: [table("course_instructors", ["course_id", "instructor_id"])], workflows: [] };
    expect(shownLinks([sessions, links, instructors], meta)).toEqual([sessions, instructors]);
  });

  it("keeps it when its rows carry data of their own", () => {
    const meta: Meta = { resources: [table("course_instructors", ["course_id", "instructor_id", "role"])], workflows: [] };
    expect(shownLinks([sessions, links, instructors], meta)).toEqual([sessions, links, instructors]);
  });
});
