// The API's bodies, as the server documents them: aliases of the components
// generated from openapi.json into schema.d.ts (`npm run gen:api`). A type is
// written by hand here only where the document cannot say it; each says why.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type RecordActionMeta = Schemas["RecordActionMeta"];
export type FieldMeta = Schemas["FieldMeta"];
export type FieldType = FieldMeta["type"];
export type FilterOperator = FieldMeta["operators"][number];
export type ResourceMeta = Schemas["ResourceMeta"];
export type Action = ResourceMeta["actions"][number];
export type RelatedMeta = Schemas["RelatedMeta"];
export type WorkflowSummary = Schemas["WorkflowSummary"];
export type Meta = Schemas["Meta"];
export type User = Schemas["UserBody"];
export type ColumnPref = Schemas["ColumnPref"];
export type FilterPref = Schemas["FilterPref"];
export type ViewPref = Schemas["ViewPref"];
export type SharedView = Schemas["SharedView"];
/** What a list view is: the part of a view preference or shared view that is saved. */
export type ViewConfig = Pick<ViewPref, "columns" | "sort" | "filters">;
export type Counts = Schemas["Counts"];
export type AuditVerify = Schemas["AuditVerify"];
export type ImportResult = Schemas["ImportResult"];
export type ImportRow = Schemas["ImportRow"];
export type ImportSummary = Schemas["ImportSummary"];
export type ImportConflict = Schemas["ImportConflict"];
export type DraftEvent = Schemas["DraftEvent"];
export type DraftBatchPublished = Schemas["DraftBatchPublished"];
export type DraftStatus = Schemas["Draft"]["status"];
export type StepLink = Schemas["StepLink"];
export type WorkflowStep = Schemas["WorkflowStep"];
export type WorkflowRun = Schemas["WorkflowRun"];
export type BulkRequest = Schemas["BulkRequest"];
export type BulkOp = BulkRequest["op"];
export type BulkResult = Schemas["BulkResult"];
export type BulkConflict = Schemas["BulkConflict"];
export type BulkInvalid = Schemas["BulkInvalid"];
export type JobAccepted = Schemas["JobAccepted"];
/** A row a bulk edit did not write, its fields' values as FieldValue (see Conflict: typed by hand for the same reason). */
export type BulkRowConflict = Omit<BulkConflict, "conflicts"> & { conflicts: Conflict[] };
/** A bulk edit's outcome, its conflicts typed as BulkRowConflict. */
export type BulkOutcome = Omit<BulkResult, "conflicts"> & { conflicts?: BulkRowConflict[] };
export type Job = Schemas["Job"];
export type JobFrame = Schemas["JobFrame"];
export type RunStatus = WorkflowRun["status"];

export const DRAFT_STATUSES: DraftStatus[] = ["draft", "submitted", "approved", "rejected", "published", "discarded"];

/** The transitions a draft's review has, each its own operation (…/submit, …/approve, …). */
export type DraftTransition = "submit" | "approve" | "reject" | "discard";

/**
 * A field's value in a record body. Written by hand: the generic record
 * operations (`/api/r/{resource}`) serve every resource, so their bodies are
 * open objects in the document; a value is some JSON value of the field's
 * type (FieldMeta.type), never an arbitrary `unknown`.
 */
export type FieldValue = string | number | boolean | null | Record<string, unknown> | unknown[];

/**
 * A record as the generic record operations return it. Written by hand: its
 * fields are the resource's, known only at run time from its ResourceMeta (the
 * per-resource schemas `Record_<name>` exist for integrators, but the UI is
 * generic); the two bookkeeping members are on every record.
 */
export interface RecordBody {
  _version: number;
  _deleted_at: string | null;
  [field: string]: FieldValue;
}

/** A page of records (the document's RecordPage, with records as RecordBody: see there). */
export type Page = Omit<Schemas["RecordPage"], "items"> & { items: RecordBody[] };

/**
 * One field in conflict, in a 409 problem's `conflicts`. Written by hand,
 * like ApiProblem: problem extension members are not in the document.
 */
export interface Conflict {
  field: string;
  base: FieldValue;
  theirs: FieldValue;
  yours: FieldValue;
}

/**
 * Every error body is an RFC 9457 problem. The document gives the members
 * every problem has; the extension members some add (a 409's `current` and
 * `conflicts`) are written here.
 */
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

/**
 * A change log entry. Its `diff` holds field values (FieldValue, see there),
 * typed by hand for the same reason as RecordBody: which fields, and so
 * which value types, depends on the resource. `op` and `source` are the
 * values API.md lists.
 */
export type Change = Omit<Schemas["Change"], "diff" | "op" | "source"> & {
  op: "insert" | "update" | "delete" | "restore" | "purge";
  source: "api" | "draft" | "revert" | "workflow" | "bulk" | "import" | "action" | "db" | "view";
  diff: Record<string, { old: FieldValue; new: FieldValue }>;
};

/** A draft: its `data` holds the drafted fields' values (FieldValue, see there); a failed publish, its problem. */
export type Draft = Omit<Schemas["Draft"], "data" | "publish_error"> & {
  data: Record<string, FieldValue>;
  publish_error: ApiProblem | null;
};

/** GET /api/drafts/{id}: with each drafted field next to its live value (FieldValue, see there). */
export type DraftDetail = Omit<Schemas["DraftDetail"], "data" | "publish_error" | "diff"> & {
  data: Record<string, FieldValue>;
  publish_error: ApiProblem | null;
  diff: Record<string, { live: FieldValue; draft: FieldValue }>;
};

