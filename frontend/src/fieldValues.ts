// Values of the adopted column types as the form edits them, and what the
// browser checks before a save. The server stays the judge (it refuses bad
// input with a 422); these checks only keep a typing slip from a round trip,
// and keep exact values exact: a decimal stays the string the user typed,
// never a JS number (which would round 0.1 + 0.2 and lose digits past 2^53).
import type { FieldMeta, FieldType, FieldValue } from "./api/models";

/**
 * What the user typed into a code box that is not JSON (yet). It is held as
 * the field's edit, so that it survives a live change of the record and a
 * failed save, and it blocks the save with `problem` until it parses.
 */
export class Unparsed {
  // An object among FieldValue's shapes: edits hold it like any value.
  [key: string]: unknown;
  readonly text: string;
  readonly problem: string;
  constructor(text: string, problem: string) {
    this.text = text;
    this.problem = problem;
  }
  /** Shown (in a diff or a dialog) as what was typed. */
  toJSON(): string {
    return this.text;
  }
}

/** An exact decimal as PostgreSQL's numeric reads it: digits, one point, an exponent; NaN and ±Infinity. */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^(NaN|[+-]?Infinity)$/;
export const INTEGER = /^[+-]?\d+$/;
export const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
/** ISO 8601 duration (PnYnMnDTnHnMnS, PnW), as the server writes intervals; a sign is allowed. */
export const DURATION = /^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(?=[\d.-])(-?\d+(\.\d+)?H)?(-?\d+(\.\d+)?M)?(-?\d+(\.\d+)?S)?)?$/;

const NUMERIC: FieldType[] = ["integer", "decimal", "float"];

/** Whether an array's elements are numbers (validated as such in the token input). */
export function isNumericType(type: FieldType | undefined): boolean {
  return type !== undefined && NUMERIC.includes(type);
}

/**
 * One token typed into an array's input, as the element the server expects,
 * or a problem: integers and floats become JSON numbers, decimals stay exact
 * strings, anything else is text.
 */
export function parseToken(text: string, items: FieldType | undefined): { value: FieldValue } | { problem: string } {
  const token = text.trim();
  if (items === "integer") {
    return INTEGER.test(token) && Number.isSafeInteger(Number(token))
      ? { value: Number(token) }
      : { problem: `“${token}” is not a whole number.` };
  }
  if (items === "float") {
    const n = Number(token);
    return token !== "" && Number.isFinite(n) ? { value: n } : { problem: `“${token}” is not a number.` };
  }
  if (items === "decimal") {
    return DECIMAL.test(token) ? { value: token } : { problem: `“${token}” is not a decimal number.` };
  }
  if (items === "uuid" && !UUID.test(token)) return { problem: `“${token}” is not a UUID.` };
  return { value: token };
}

/** JSON text → the value, or what is wrong with it. */
export function parseJson(text: string): FieldValue | Unparsed {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as FieldValue;
  } catch (e) {
    const why = e instanceof SyntaxError ? e.message : String(e);
    return new Unparsed(text, `Not valid JSON: ${why}`);
  }
}

/** JSON as the code box shows it: indented, so that an object reads as one key a line. */
export function formatJson(value: FieldValue): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Unparsed) return value.text;
  return typeof value === "object" ? JSON.stringify(value, null, 2) : JSON.stringify(value);
}

/** Whether two values are the same JSON (key order aside for objects is not needed: same text). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a instanceof Unparsed || b instanceof Unparsed) return false;
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** What is wrong with a value the user typed, for the field's type; null when it may be sent. */
export function inputProblem(field: FieldMeta, value: FieldValue | undefined): string | null {
  if (value instanceof Unparsed) return value.problem;
  if (value === null || value === undefined || value === "") return null;
  if (typeof value !== "string") {
    if (field.type === "array" && Array.isArray(value) && isNumericType(field.items)) {
      const bad = value.find((v) => "problem" in parseToken(String(v), field.items));
      return bad === undefined ? null : `“${String(bad)}” is not a number.`;
    }
    return null;
  }
  if (field.choices) return null;
  const over = tooLong(field, value);
  if (over) return over;
  switch (field.type) {
    case "decimal":
      return DECIMAL.test(value.trim()) ? null : "Enter an exact decimal number, such as 1234.50.";
    case "uuid":
      return UUID.test(value.trim()) ? null : "Enter a UUID, such as 123e4567-e89b-12d3-a456-426614174000.";
    case "duration":
      return DURATION.test(value.trim()) ? null : "Enter an ISO 8601 duration, such as P1DT2H30M.";
    default:
      return null;
  }
}

/**
 * A text longer than the field's `max_length`, said in full: how long it is
 * and by how much. Counted in characters (code points) as the server counts,
 * not UTF-16 units, so an emoji is one.
 */
export function tooLong(field: Pick<FieldMeta, "max_length">, value: string): string | null {
  if (field.max_length === undefined) return null;
  const length = [...value].length;
  if (length <= field.max_length) return null;
  return `At most ${field.max_length} characters: this is ${length}, ${length - field.max_length} too many (nothing was cut).`;
}

/** The edits' problems before a save, in the shape of a 422's `errors`. */
export function editProblems(fields: FieldMeta[], edits: Record<string, FieldValue>): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  for (const field of fields) {
    if (!(field.name in edits)) continue;
    const problem = inputProblem(field, edits[field.name]);
    if (problem) out.push({ field: field.name, message: problem });
  }
  return out;
}

/** base64 → bytes (for a download); null when it is not base64. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    const raw = atob(text.replace(/\s+/g, ""));
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/** bytes → base64 (an upload), in chunks: String.fromCharCode(...bytes) overflows the stack on big files. */
export function toBase64(bytes: Uint8Array): string {
  let raw = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) raw += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(raw);
}

/** The size of a base64 value in bytes, without decoding it. */
export function base64Size(text: string): number {
  const clean = text.replace(/\s+/g, "");
  const padding = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((clean.length * 3) / 4) - padding);
}

/** A naive timestamp ("2026-11-30 17:00:00" or with a T) as datetime-local text, unchanged in its wall-clock time. */
export function naiveToInput(value: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)$/.exec(value);
  return m ? `${m[1]}T${m[2]}` : null;
}

/** datetime-local text → the naive timestamp sent (seconds added, no offset, no conversion). */
export function naiveFromInput(local: string): string {
  return /T\d{2}:\d{2}$/.test(local) ? `${local}:00` : local;
}
