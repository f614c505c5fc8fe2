// The inputs of the column types that a plain <input> does not fit: a token
// input for arrays, a code box for JSON, download/upload for binary. Each is
// controlled by the field's value (the record's or the user's edit, which
// the page holds); what is only half typed (a token before Enter, JSON that
// does not parse yet) is local state or an `Unparsed` edit, so a live change
// of the record re-rendering the form never wipes it.
import { useState, type InputHTMLAttributes, type KeyboardEvent } from "react";
import type { FieldMeta, FieldValue } from "../api/models";
import { base64Size, formatJson, fromBase64, parseJson, parseToken, sameJson, toBase64, Unparsed } from "../fieldValues";

type Common = Omit<InputHTMLAttributes<HTMLElement>, "value" | "onChange" | "defaultValue">;

interface TypedProps {
  field: FieldMeta;
  value: FieldValue;
  onChange: (value: FieldValue) => void;
  common: Common & { id: string; disabled: boolean };
}

/** An array as removable tokens plus a text box: Enter or a comma adds what is typed, Backspace in the empty box removes the last. */
export function TokenInput({ field, value, onChange, common }: TypedProps) {
  const tokens = Array.isArray(value) ? value : [];
  const [typed, setTyped] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const { onBlur, ...rest } = common;

  /**
   * Adds each of `parts` as an element, up to the first that is not one (which
   * stays in the box with a message); `rest` is what is left to type.
   */
  function add(parts: string[], rest: string) {
    const added: FieldValue[] = [];
    for (const [index, part] of parts.entries()) {
      if (part.trim() === "") continue;
      const parsed = parseToken(part, field.items);
      if ("problem" in parsed) {
        if (added.length > 0) onChange([...tokens, ...added]);
        setTyped([...parts.slice(index), rest].filter((p) => p !== "").join(","));
        setProblem(parsed.problem);
        return;
      }
      added.push(parsed.value);
    }
    if (added.length > 0) onChange([...tokens, ...added]);
    setTyped(rest);
    setProblem(null);
  }
  const commit = () => add([typed], "");

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === "Enter" || e.key === ",") {
      e.preventDefault(); // Enter would submit the form with the token left out
      commit();
    } else if (e.key === "Backspace" && typed === "" && tokens.length > 0) {
      e.preventDefault();
      onChange(tokens.slice(0, -1));
    }
  }

  return (
    <div className="tokens" data-testid={`tokens-${field.name}`}>
      <ul aria-label={`${field.label} elements`}>
        {tokens.map((token, index) => (
          <li key={`${index}-${String(token)}`} className="chip">
            <span>{typeof token === "object" ? JSON.stringify(token) : String(token)}</span>
            {!common.disabled && (
              <button
                type="button"
                className="link"
                aria-label={`Remove ${String(token)}`}
                onClick={() => onChange(tokens.filter((_, i) => i !== index))}
              >
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {!common.disabled && (
        <input
          {...rest}
          required={common.required && tokens.length === 0}
          type="text"
          inputMode={field.items === "integer" ? "numeric" : field.items === "decimal" || field.items === "float" ? "decimal" : undefined}
          placeholder={tokens.length === 0 ? "Type, then Enter" : "Add…"}
          value={typed}
          onChange={(e) => {
            // A comma (typed on a phone keyboard, or pasted "a, b, c") ends each element before it.
            const parts = e.target.value.split(",");
            if (parts.length > 1) add(parts.slice(0, -1), parts[parts.length - 1]);
            else {
              setTyped(e.target.value);
              setProblem(null);
            }
          }}
          onKeyDown={onKeyDown}
          onBlur={(e) => {
            commit(); // leaving the box (say, for Save) keeps what was typed
            onBlur?.(e);
          }}
        />
      )}
      {problem && (
        <p className="error" role="alert" data-testid={`token-problem-${field.name}`}>
          {problem}
        </p>
      )}
    </div>
  );
}

/**
 * JSON in a monospace text box. The text is local (formatting and half-typed
 * input are the user's); what does not parse is handed up as an `Unparsed`
 * edit, which blocks the save with its message. A new value from outside (a
 * live change while this field is not edited, "Take theirs") replaces the
 * text; the user's own value coming back does not.
 */
export function CodeBox({ value, onChange, common }: TypedProps) {
  const [text, setText] = useState(() => formatJson(value));
  const [shownFor, setShownFor] = useState<FieldValue>(value);
  if (value !== shownFor) {
    setShownFor(value);
    const mine = value instanceof Unparsed ? value.text === text : sameJson(value, parseJson(text));
    if (!mine) setText(formatJson(value));
  }
  return (
    <textarea
      {...(common as InputHTMLAttributes<HTMLTextAreaElement>)}
      className="code"
      spellCheck={false}
      rows={Math.min(12, Math.max(3, text.split("\n").length))}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        onChange(parseJson(e.target.value));
      }}
    />
  );
}

/** Binary (base64 in the API): its size, a download of the bytes, and an upload that replaces them. */
export function BinaryInput({ field, value, onChange, common }: TypedProps) {
  const encoded = typeof value === "string" ? value : null;
  const { onFocus, onBlur, ...rest } = common;
  function download() {
    if (encoded === null) return;
    const bytes = fromBase64(encoded);
    if (!bytes) return;
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${field.name}.bin`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    // The click has handed the URL to the download; revoke once the event loop has moved on.
    window.setTimeout(() => URL.revokeObjectURL(url), 0);
  }
  return (
    <div className="binary" onFocus={onFocus} onBlur={onBlur}>
      <span className="muted" data-testid={`size-${field.name}`}>
        {encoded === null ? "empty" : `${base64Size(encoded)} bytes`}
      </span>{" "}
      {encoded !== null && (
        <button type="button" className="secondary" onClick={download}>
          Download
        </button>
      )}{" "}
      {!common.disabled && (
        <>
          <input
            {...(rest as InputHTMLAttributes<HTMLInputElement>)}
            required={common.required && encoded === null}
            type="file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (!file) return;
              const reader = new FileReader();
              reader.onload = () => {
                if (reader.result instanceof ArrayBuffer) onChange(toBase64(new Uint8Array(reader.result)));
              };
              reader.readAsArrayBuffer(file);
            }}
          />
          {encoded !== null && !common.required && (
            <button type="button" className="link" onClick={() => onChange(null)}>
              Clear
            </button>
          )}
        </>
      )}
    </div>
  );
}
