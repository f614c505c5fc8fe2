// timestamptz values in forms. The server sends and accepts ISO 8601 with an
// offset ("2026-11-30T17:00:00+00:00"); <input type="datetime-local"> shows and
// returns wall-clock time with no offset ("2026-11-30T18:00"), and rejects a
// value that has one (it shows blank). So a value is shown in the browser's
// time zone and sent back as that wall-clock time with the browser's offset
// for that moment (daylight saving included), which names the same instant.

import { sameJson } from "./fieldValues";

const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, "0");

/** An ISO date-time with an offset → the datetime-local text for the same instant here ("" if none or unreadable). */
export function toLocalInput(value: string | null | undefined): string {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  let time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (date.getSeconds() !== 0 || date.getMilliseconds() !== 0) {
    time += `:${pad(date.getSeconds())}`;
    if (date.getMilliseconds() !== 0) time += `.${pad(date.getMilliseconds(), 3)}`;
  }
  return `${day}T${time}`;
}

/** The browser's offset at `date` as ±HH:MM (getTimezoneOffset is minutes *behind* UTC). */
export function offsetOf(date: Date): string {
  const minutes = -date.getTimezoneOffset();
  return `${minutes < 0 ? "-" : "+"}${pad(minutes / 60)}:${pad(minutes % 60)}`;
}

/** Datetime-local text (wall-clock time here) → ISO 8601 with this zone's offset; null if empty or unreadable. */
export function fromLocalInput(local: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(local);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = "0", ms = "0"] = m;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms.padEnd(3, "0")));
  if (Number.isNaN(date.getTime())) return null;
  // A wall-clock time skipped by a daylight-saving jump is moved forward by the
  // Date constructor; send what it became, so the text and instant agree.
  const seconds = date.getSeconds() !== 0 || date.getMilliseconds() !== 0 ? `:${pad(date.getSeconds())}` : ":00";
  const fraction = date.getMilliseconds() !== 0 ? `.${pad(date.getMilliseconds(), 3)}` : "";
  return `${toLocalInput(date.toISOString()).slice(0, 16)}${seconds}${fraction}${offsetOf(date)}`;
}

/**
 * Whether an edited value is the stored one again (for a datetime: the same
 * instant, however written; for an array or JSON: the same JSON), so that
 * undoing an edit by hand leaves nothing to save.
 */
export function sameValue(edited: unknown, stored: unknown, type: string): boolean {
  if (edited === stored) return true;
  if (type === "datetime") return sameInstant(edited, stored);
  if (type === "array" || type === "json") return sameJson(edited, stored);
  return false;
}

/** Whether two ISO date-times name the same instant. */
export function sameInstant(a: unknown, b: unknown): boolean {
  if (typeof a !== "string" || typeof b !== "string") return false;
  const ta = Date.parse(a);
  return !Number.isNaN(ta) && ta === Date.parse(b);
}
