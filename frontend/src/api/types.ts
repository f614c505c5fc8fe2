// Shapes of the API's bodies (../shared/API.md). The paths and operation ids
// are typed from the OpenAPI document in schema.d.ts.
import type { components } from "./schema";

/**
 * A record action this user may run (a button on the record page): its URL
 * name, label and confirmation; `applies` says, in a record's OPTIONS,
 * whether it applies to that record now.
 */
export type RecordActionMeta = components["schemas"]["RecordActionMeta"];

export type FieldType =
  | "string"
  | "text"
  | "integer"
  /** Exact (PostgreSQL numeric): a JSON string in every body, such as "12.50". */
  | "decimal"
  | "float"
  | "boolean"
  | "date"
  | "time"
  | "datetime"
  /** ISO 8601 duration, such as "P1DT2H30M". */
  | "duration"
  | "uuid"
  | "json"
  /** Base64. */
  | "binary"
  /** A JSON array of `items`. */
  | "array";

export type FilterOperator =
  | "eq"
  | "ne"
  | "lt"
  | "lte"
  | "gt"
  | "gte"
  | "in"
  | "contains"
  | "icontains"
  | "isnull"
  | "has"
  | "overlaps";

export interface FieldMeta {
  name: string;
  type: FieldType;
  label: string;
  required: boolean;
  read_only: boolean;
  /** Why it is read-only here (present when read_only is true). */
  read_only_reason?: string;
  read_only_after_create?: boolean;
  protected?: boolean;
  max_length?: number;
  pattern?: string;
  choices?: string[];
  relation?: { resource: string; display: string };
  /** The filter operators this field supports; any other is refused. */
  operators: FilterOperator[];
  /** The element type of an array. */
  items?: FieldType;
  /** false for a date-time without offset (local time as stored). */
  timezone?: boolean;
}

export type Action =
  | "view"
  | "add"
  | "change"
  | "delete"
  | "restore"
  | "purge"
  | "publish"
  | "audit"
  /** Post comments on drafts of the resource. */
  | "comment"
  /** Create shared (named, seen by everyone) views of the resource's list. */
  | "share_view";

/**
 * Records of another resource that point at this one. Without `through`:
 * rows of `resource` whose `field` holds this record's key (a course's
 * sessions). With `through`: records of the far `resource` linked through
 * the link table `through.resource`, whose `field` holds this record's key
 * and whose `through.field` holds the far record's key (a course's
 * instructors through course_instructors).
 */
export interface RelatedMeta {
  resource: string;
  field: string;
  label: string;
  through?: { resource: string; field: string };
}

export interface ResourceMeta {
  name: string;
  label: string;
  label_plural: string;
  /** The key column, the key columns in order (composite key), or null: list-only. */
  pk: string | string[] | null;
  /** The field that names a record in the UI (and in links to it). */
  display: string;
  /** Whether subscribers get change events for it (a tracked table). */
  live: boolean;
  actions: Action[];
  fields: FieldMeta[];
  /** Only links through resources and fields this user may see. */
  related: RelatedMeta[];
  default_sort: string[];
  searchable: boolean;
  soft_delete: boolean;
  /** A same-origin page that renders a record as its audience sees it (draft previews). */
  preview_url?: string | null;
  /** The record actions this user may run, in their declared order. */
  record_actions: RecordActionMeta[];
}

export interface WorkflowSummary {
  name: string;
  title: string;
  subject: string;
}

export interface Meta {
  resources: ResourceMeta[];
  workflows: WorkflowSummary[];
}

export type FieldValue = string | number | boolean | null | Record<string, unknown> | unknown[];

export interface RecordBody {
  _version: number;
  _deleted_at: string | null;
  [field: string]: FieldValue;
}

export interface Page {
  items: RecordBody[];
  next_cursor: string | null;
  total: number | null;
}

export interface Change {
  id: number;
  at: string;
  resource: string;
  pk: string;
  op: "insert" | "update" | "delete" | "restore" | "purge";
  actor: { id: number; name: string } | null;
  source: "api" | "draft" | "revert" | "workflow" | "action" | "db";
  version: number;
  diff: Record<string, { old: FieldValue; new: FieldValue }>;
}

export interface Conflict {
  field: string;
  base: FieldValue;
  theirs: FieldValue;
  yours: FieldValue;
}

export interface User {
  id: number;
  username: string;
  name: string;
  roles: string[];
}

/** Every error body is an RFC 9457 problem. */
export interface ApiProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
  current?: RecordBody;
  conflicts?: Conflict[];
  [extension: string]: unknown;
}

/** One column of a list: a readable field, an optional width (px) and display format. */
export interface ColumnPref {
  field: string;
  width?: number;
  format?: string;
}

/** A filter in the records API's grammar: `filter[field][op]=value`. */
export interface FilterPref {
  field: string;
  op: string;
  value: string;
}

export interface ViewConfig {
  columns: ColumnPref[];
  sort: string;
  filters: FilterPref[];
}

export interface ViewPref extends ViewConfig {
  updated_at: string | null;
}

export interface SharedView extends ViewConfig {
  id: number;
  name: string;
  created_by: { id: number; name: string } | null;
  created_at: string;
}

export interface Counts {
  by: string;
  counts: { value: string | boolean | null; count: number }[];
}

export interface AuditVerify {
  ok: boolean;
  checked: number;
  first_bad: number | null;
}

export type DraftStatus = "draft" | "submitted" | "approved" | "rejected" | "published" | "discarded";

export const DRAFT_STATUSES: DraftStatus[] = ["draft", "submitted", "approved", "rejected", "published", "discarded"];

/** A draft as GET /api/drafts lists it (docs/drafts.md). */
export interface Draft {
  id: number;
  resource: string;
  pk: string | null;
  base_version: number | null;
  status: DraftStatus;
  data: Record<string, FieldValue>;
  author: { id: number; name: string } | null;
  created_at: string;
  updated_at: string;
  publish_at: string | null;
  publish_error: ApiProblem | null;
  published_at: string | null;
  published_version: number | null;
  _version: number;
}

/** GET /api/drafts/{id}: with each drafted field next to its live value. */
export interface DraftDetail extends Draft {
  live_version: number | null;
  diff: Record<string, { live: FieldValue; draft: FieldValue }>;
}

/** One entry of a draft's review trail. */
export interface DraftEvent {
  id: number;
  at: string;
  actor: { id: number | null; name: string } | null;
  action: string;
  from_status: DraftStatus | null;
  to_status: DraftStatus | null;
  comment: string | null;
}

export type DraftTransition = "submit" | "approve" | "reject" | "discard";

export interface StepLink {
  resource: string;
  pk: string | null;
  field: string | null;
  filter?: Record<string, string>;
}

export interface WorkflowStep {
  key: string;
  title: string;
  done: boolean;
  auto: boolean;
  done_by: { id: number | null; name: string } | null;
  done_at: string | null;
  link: StepLink | null;
}

export type RunStatus = "open" | "done" | "cancelled";

export interface WorkflowRun {
  id: number;
  workflow: string;
  title: string;
  subject: { resource: string; pk: string };
  status: RunStatus;
  progress: { done: number; total: number };
  steps: WorkflowStep[];
  assignee: { id: number; name: string } | null;
  due_date: string | null;
  started_by: { id: number | null; name: string } | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  _version: number;
}
