import type { ReactNode } from "react";
import type { FieldMeta, FieldValue } from "../api/types";
import { fromLocalInput, toLocalInput } from "../datetime";

interface Props {
  field: FieldMeta;
  value: FieldValue;
  onChange: (value: FieldValue) => void;
  error?: string;
  readOnly: boolean;
  /** Who else is editing this field right now. */
  editors?: string[];
  onFocusChange?: (focused: boolean) => void;
  children?: ReactNode;
}

/** One form control, chosen by the field's type as the server describes it. */
export function FieldInput({ field, value: given, onChange, error, readOnly, editors, onFocusChange, children }: Props) {
  const value = given ?? null; // a field missing from the record reads as empty, not "undefined"
  const id = `field-${field.name}`;
  const describedBy = error ? `${id}-error` : undefined;
  const common = {
    id,
    name: field.name,
    disabled: readOnly,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
    required: field.required,
    onFocus: () => onFocusChange?.(true),
    onBlur: () => onFocusChange?.(false),
  };
  let control;
  if (field.choices) {
    control = (
      <select {...common} value={value === null ? "" : String(value)} onChange={(e) => onChange(e.target.value)}>
        {!field.required && <option value="">—</option>}
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
  } else if (field.type === "json" || field.type === "array") {
    // JSON text; what does not parse is sent as typed, for the server to refuse.
    const shown = value === null ? "" : JSON.stringify(value);
    control = (
      <textarea
        {...common}
        rows={3}
        defaultValue={shown}
        onChange={(e) => {
          const typed = e.target.value;
          if (typed.trim() === "") return onChange(null);
          try {
            onChange(JSON.parse(typed) as FieldValue);
          } catch {
            onChange(typed);
          }
        }}
      />
    );
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
  } else if (field.type === "datetime" && (value === null || toLocalInput(String(value)) !== "")) {
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
  } else {
    // A datetime the browser cannot show (not ISO 8601) stays visible as text, not blank.
    const inputType = field.type === "date" ? "date" : "text";
    control = (
      <input
        {...common}
        type={inputType}
        maxLength={field.max_length}
        pattern={field.pattern?.replace(/^\^|\$$/g, "")}
        value={value === null ? "" : String(value)}
        onChange={(e) => onChange(e.target.value === "" && !field.required ? null : e.target.value)}
      />
    );
  }
  return (
    <div className={`field${error ? " invalid" : ""}`}>
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
      {error && (
        <p id={`${id}-error`} className="error">
          {error}
        </p>
      )}
      {children}
    </div>
  );
}
