import type { FieldMeta, FieldValue } from "./api/types";

/** A value as text for tables and diffs. */
export function display(value: FieldValue | undefined, field?: FieldMeta): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (field?.type === "datetime" && typeof value === "string") return new Date(value).toLocaleString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
