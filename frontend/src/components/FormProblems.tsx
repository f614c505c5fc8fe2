// What a form shows when a save does not go through: errors on named fields
// next to their inputs, errors that name no shown field (a CHECK constraint,
// "_") in a banner over the form, and a save that never reached the server
// (or failed there) as "Not saved" with the reason and a Retry.
import type { FieldMeta } from "../api/models";
import { ProblemError } from "../api/client";

export interface FieldProblem {
  field: string;
  message: string;
}

/** Errors by shown field, and the messages that belong to no shown field. */
export function splitErrors(
  errors: FieldProblem[],
  fields: FieldMeta[],
  prefix = "",
): { byField: Record<string, string>; general: string[] } {
  const shown = new Set(fields.map((f) => f.name));
  const byField: Record<string, string> = {};
  const general: string[] = [];
  for (const { field, message } of errors) {
    const name = prefix && field.startsWith(prefix) ? field.slice(prefix.length) : field;
    if (shown.has(name)) byField[name] = byField[name] ? `${byField[name]} ${message}` : message;
    else general.push(name === "_" || name === "" ? message : `${name}: ${message}`);
  }
  return { byField, general };
}

/** Why a request failed, in words: the problem's detail, or that the server was not reached. */
export function reasonOf(error: unknown): string {
  if (error instanceof ProblemError) return error.problem.detail || error.problem.title;
  if (error instanceof TypeError) return "The server could not be reached; check the connection.";
  return error instanceof Error && error.message ? error.message : String(error);
}

/** The form-level errors: shown over the fields, announced. */
export function FormErrors({ messages }: { messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <div className="problem" role="alert" data-testid="form-errors">
      <strong>{messages.length === 1 ? "This cannot be saved:" : "These cannot be saved:"}</strong>
      {messages.length === 1 ? (
        <> {messages[0]}</>
      ) : (
        <ul>
          {messages.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A save that failed for a reason other than the input: the edits stay, Retry sends them again. */
export function NotSaved({ reason, onRetry, busy }: { reason: string; onRetry: () => void; busy: boolean }) {
  return (
    <div className="problem not-saved" role="alert" data-testid="not-saved">
      <strong>Not saved.</strong> {reason} Your changes are still here.{" "}
      <button type="button" className="secondary" disabled={busy} onClick={onRetry}>
        {busy ? "Retrying…" : "Retry"}
      </button>
    </div>
  );
}
