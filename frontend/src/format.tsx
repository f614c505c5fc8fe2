import type { FieldMeta, FieldValue } from "./api/models";
import { base64Size } from "./fieldValues";

/** Longest JSON shown in a cell or diff before it is cut short (the title has it all). */
const JSON_SHOWN = 60;

/** A value as text for tables and diffs. */
export function display(value: FieldValue | undefined, field?: FieldMeta): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (field?.type === "binary" && typeof value === "string") return `${base64Size(value)} bytes`;
  // A naive timestamp is wall-clock time as stored: Date reads it as local time, which shows it unchanged.
  if (field?.type === "datetime" && typeof value === "string") {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
  }
  if (Array.isArray(value) && field?.type === "array") return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  // Decimals are exact strings and are shown as they are (no rounding through a JS number).
  return String(value);
}

/** An array's elements as chips in a list cell. */
export function ArrayChips({ chips }: { chips: string[] }) {
  return (
    <span className="chips" title={chips.join(", ")}>
      {chips.map((chip, index) => (
        <span key={`${index}-${chip}`} className="chip">
          {chip}
        </span>
      ))}
    </span>
  );
}

/** The display formats a field may take (the server keeps the same closed list). */
export function formatsFor(field: FieldMeta): { value: string; label: string }[] {
  if (field.type === "date" || field.type === "datetime") {
    return [
      { value: "date:short", label: "Short date" },
      { value: "date:medium", label: "Medium date" },
      { value: "date:long", label: "Long date" },
      { value: "date:iso", label: "ISO 8601" },
      { value: "date:relative", label: "Relative (3 days ago)" },
    ];
  }
  if (field.type === "integer" || field.type === "decimal" || field.type === "float") {
    return [
      { value: "number:plain", label: "Plain" },
      { value: "number:grouped", label: "Grouped (1,234)" },
      { value: "number:fixed2", label: "Two decimals" },
      { value: "number:percent", label: "Percent" },
    ];
  }
  const out: { value: string; label: string }[] = [];
  if (field.choices || field.type === "boolean") out.push({ value: "badge", label: "Badge" });
  if (field.type === "string" || field.type === "text") {
    for (const n of [20, 40, 80]) out.push({ value: `truncate:${n}`, label: `Truncate to ${n}` });
  }
  return out;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

export function relativeTime(date: Date): string {
  const seconds = (date.getTime() - Date.now()) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds), "second");
}

function asDate(value: string, field: FieldMeta): Date {
  // A date-only value is a calendar day: read it as local midnight, not UTC.
  return field.type === "date" ? new Date(`${value}T00:00:00`) : new Date(value);
}

export interface Formatted {
  text: string;
  /** An array's elements, shown as chips. */
  chips?: string[];
  title?: string;
  badge?: string;
}

/** A cell's text under a column format such as "date:long", "truncate:40" or "badge". */
export function formatCell(value: FieldValue | undefined, field: FieldMeta, format?: string): Formatted {
  if (value === null || value === undefined || value === "") return { text: "—" };
  if (field.type === "array" && Array.isArray(value)) {
    return { text: display(value, field), chips: value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))) };
  }
  if (field.type === "json") {
    const text = JSON.stringify(value);
    return text.length > JSON_SHOWN ? { text: `${text.slice(0, JSON_SHOWN)}…`, title: text } : { text };
  }
  if (!format) return { text: display(value, field) };
  if (format.startsWith("date:") && typeof value === "string") {
    const date = asDate(value, field);
    if (Number.isNaN(date.getTime())) return { text: value };
    const withTime = field.type === "datetime";
    switch (format) {
      case "date:iso":
        return { text: value };
      case "date:relative":
        return { text: relativeTime(date), title: date.toLocaleString() };
      default: {
        const style = format.slice(5) as "short" | "medium" | "long";
        return {
          text: date.toLocaleString(undefined, { dateStyle: style, ...(withTime ? { timeStyle: "short" } : {}) }),
        };
      }
    }
  }
  if (format.startsWith("number:")) {
    const n = Number(value);
    if (Number.isNaN(n)) return { text: String(value) };
    if (format === "number:grouped") return { text: n.toLocaleString() };
    if (format === "number:fixed2") return { text: n.toFixed(2) };
    if (format === "number:percent") return { text: `${(n * 100).toLocaleString()}%` };
    return { text: String(value) };
  }
  if (format.startsWith("truncate:")) {
    const limit = Number(format.slice(9));
    const text = display(value, field);
    return text.length > limit ? { text: `${text.slice(0, limit)}…`, title: text } : { text };
  }
  if (format === "badge") {
    const text = display(value, field);
    return { text, badge: typeof value === "boolean" ? String(value) : String(value).toLowerCase() };
  }
  return { text: display(value, field) };
}
