import type { ReactNode } from "react";
import type { FieldMeta, FieldValue } from "../api/models";
import { fromLocalInput, toLocalInput } from "../datetime";
import { inputProblem, naiveFromInput, naiveToInput, UUID } from "../fieldValues";
import { RelationPicker } from "./RelationPicker";
import { BinaryInput, CodeBox, TokenInput } from "./TypedInputs";

const TIME = /^\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

interface Props {
  field: FieldMeta;
  /** The control's id (its label points at it); `field-{name}` by default, one form per page. */
  id?: string;
  value: FieldValue;
  onChange: (value: FieldValue) => void;
  error?: string;
  readOnly: boolean;
  /** Said under a read-only field (the server's `read_only_reason`, or the record's state). */
  readOnlyReason?: string;
  /** Who else is editing this field right now. */
  editors?: string[];
  onFocusChange?: (focused: boolean) => void;
  children?: ReactNode;
}

/** One form control, chosen by the field's type as the server describes it. */
export function FieldInput({ field, id: givenId, value: given, onChange, error, readOnly, readOnlyReason, editors, onFocusChange, children }: Props) {
  const value = given ?? null; // a field missing from the record reads as empty, not "undefined"
  const id = givenId ?? `field-${field.name}`;
  const problem = error ?? inputProblem(field, given);
  const reason = readOnly ? readOnlyReason : undefined;
  const describedBy = [problem ? `${id}-error` : null, reason ? `${id}-why` : null].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    name: field.name,
    disabled: readOnly,
    "aria-invalid": problem ? true : undefined,
    "aria-describedby": describedBy,
    required: field.required,
    onFocus: () => onFocusChange?.(true),
    onBlur: () => onFocusChange?.(false),
  };
  let control;
  if (field.relation) {
    // A record of another resource, found by its name; the value stays its key.
    control = <RelationPicker field={field} value={value} onChange={onChange} common={common} clearable={!field.required} />;
  } else if (field.choices) {
    // A stored value that is not (or no longer) among the choices stays shown, not silently replaced.
    const current = value === null ? "" : String(value);
    const stray = current !== "" && !field.choices.includes(current);
    control = (
      <select {...common} value={current} onChange={(e) => onChange(e.target.value === "" ? null : e.target.value)}>
        {(!field.required || current === "") && <option value="">—</option>}
        {stray && <option value={current}>{current} (not a choice)</option>}
        {field.choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  } else if (field.type === "boolean") {
    control = <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  } else if (field.type === "text") {
    control = (
      <textarea {...common} rows={4} value={value === null ? "" : String(value)} onChange={(e) => onChange(e.target.value)} />
    );
  } else if (field.type === "array") {
    control = <TokenInput field={field} value={value} onChange={onChange} common={common} />;
  } else if (field.type === "json") {
    control = <CodeBox field={field} value={value} onChange={onChange} common={common} />;
  } else if (field.type === "binary") {
    control = <BinaryInput field={field} value={value} onChange={onChange} common={common} />;
  } else if (field.type === "integer" || field.type === "float") {
    control = (
      <input
        {...common}
        type="number"
        step={field.type === "integer" ? 1 : "any"}
        value={value === null ? "" : String(value)}
        onChange={(e) => onChange(e.target.value === "" ? null : Number(e.target.value))}
      />
    );
  } else if (field.type === "decimal") {
    // Exact: the text as typed is the value sent, never a JS number (which rounds).
    control = (
      <input
        {...common}
        type="text"
        inputMode="decimal"
        autoComplete="off"
        value={value === null ? "" : String(value)}
        onChange={(e) => onChange(e.target.value.trim() === "" ? null : e.target.value.trim())}
      />
    );
  } else if (field.type === "datetime" && field.timezone === false && (value === null || naiveToInput(String(value)) !== null)) {
    // A timestamp without time zone is wall-clock time as stored: shown and sent as is, no offset, no conversion.
    const shown = value === null ? "" : (naiveToInput(String(value)) ?? "");
    control = (
      <input
        {...common}
        type="datetime-local"
        step={shown.length > 16 ? "any" : undefined}
        value={shown}
        onChange={(e) => onChange(e.target.value === "" ? null : naiveFromInput(e.target.value))}
      />
    );
  } else if (field.type === "datetime" && field.timezone !== false && (value === null || toLocalInput(String(value)) !== "")) {
    // Shown and typed in the browser's time zone, sent with its offset (datetime.ts).
    const shown = value === null ? "" : toLocalInput(String(value));
    control = (
      <input
        {...common}
        type="datetime-local"
        // Seconds or a fraction in the stored value: a coarser step would make the
        // unchanged value "invalid" and block the form.
        step={shown.length > 16 ? "any" : undefined}
        value={shown}
        onChange={(e) => {
          if (e.target.value === "") return onChange(null);
          const typed = fromLocalInput(e.target.value);
          if (typed !== null) onChange(typed);
        }}
      />
    );
  } else if (field.type === "time" && (value === null || TIME.test(String(value)))) {
    const shown = value === null ? "" : String(value);
    control = (
      <input
        {...common}
        type="time"
        step={shown.length > 5 ? "any" : undefined}
        value={shown}
        // "HH:MM" gets its seconds, so the unchanged time compares equal to the stored one.
        onChange={(e) => onChange(e.target.value === "" ? null : /^\d{2}:\d{2}$/.test(e.target.value) ? `${e.target.value}:00` : e.target.value)}
      />
    );
  } else {
    // A datetime the browser cannot show (not ISO 8601) stays visible as text, not blank.
    const inputType = field.type === "date" ? "date" : "text";
    const pattern = field.type === "uuid" ? UUID.source : field.pattern;
    control = (
      <input
        {...common}
        type={inputType}
        // No maxLength: the browser would cut a longer paste without a word. The
        // whole text stays, and inputProblem says how much is too much.
        pattern={pattern?.replace(/^\^|\$$/g, "")}
        placeholder={field.type === "duration" ? "P1DT2H30M" : field.type === "uuid" ? "123e4567-e89b-12d3-a456-426614174000" : undefined}
        autoComplete={field.type === "uuid" || field.type === "duration" ? "off" : undefined}
        value={value === null ? "" : String(value)}
        onChange={(e) => onChange(e.target.value === "" && !field.required ? null : e.target.value)}
      />
    );
  }
  const hint = field.type === "duration" ? "ISO 8601 duration: P1DT2H30M is 1 day, 2 hours and 30 minutes." : null;
  // A server's message about the field wins; otherwise what the browser finds wrong with the typed value.
  return (
    <div className={`field${problem ? " invalid" : ""}`}>
      <label htmlFor={id}>
        {field.label}
        {field.required && <span aria-hidden="true"> *</span>}
        {editors && editors.length > 0 && (
          <span className="marker" data-testid={`editing-${field.name}`}>
            {" "}✎ {editors.join(", ")}
          </span>
        )}
      </label>
      {control}
      {reason && (
        <p id={`${id}-why`} className="read-only-reason">
          {reason}
        </p>
      )}
      {hint && !reason && <p className="muted hint">{hint}</p>}
      {problem && (
        <p id={`${id}-error`} className="error">
          {problem}
        </p>
      )}
      {children}
    </div>
  );
}
