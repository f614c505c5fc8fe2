// Shapes of the API's bodies (../shared/API.md). The paths and operation ids
// are typed from the OpenAPI document in schema.d.ts.

export type FieldType = "string" | "text" | "integer" | "number" | "boolean" | "date" | "datetime" | "json";

export interface FieldMeta {
  name: string;
  type: FieldType;
  label: string;
  required: boolean;
  read_only: boolean;
  read_only_after_create?: boolean;
  protected?: boolean;
  max_length?: number;
  pattern?: string;
  choices?: string[];
  relation?: { resource: string; display: string };
}

export type Action = "view" | "add" | "change" | "delete" | "restore" | "purge" | "publish" | "audit";

export interface ResourceMeta {
  name: string;
  label: string;
  label_plural: string;
  pk: string;
  actions: Action[];
  fields: FieldMeta[];
  default_sort: string[];
  searchable: boolean;
  soft_delete: boolean;
}

export interface Meta {
  resources: ResourceMeta[];
  workflows: { name: string; title: string; subject: string }[];
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
  source: "api" | "draft" | "revert" | "workflow" | "db";
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
