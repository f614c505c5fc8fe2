import { useState } from "react";
import type { Conflict, FieldMeta } from "../api/models";
import { display } from "../format";
import { Dialog } from "./Dialog";

export type Keep = "mine" | "theirs";

interface Props {
  conflicts: Conflict[];
  fields: FieldMeta[];
  /** Absent: the user may only look (the dialog shows the three values and a Close button). */
  onResolve?: (choice: Record<string, Keep>) => void;
  onCancel: () => void;
  /** Wording for another setting (a draft against the live record); the record page's by default. */
  wording?: Partial<typeof RECORD_WORDING>;
}

const RECORD_WORDING = {
  title: "Someone else changed these fields",
  intro: "",
  base: "When you started",
  theirs: "Theirs (saved)",
  yours: "Yours",
  keepMine: "Mine",
  keepTheirs: "Theirs",
  apply: "Apply",
};

/**
 * Someone changed the same fields: show base, theirs and yours, choose per field.
 *
 * The choices are state keyed by field name, kept for as long as the dialog is
 * open: a re-render (a presence frame, a refetch) or a new conflict set (the
 * other person saved again) keeps what was chosen for every field still in
 * conflict; a field new to the set starts at "mine". What Apply sends is
 * exactly what the controls show. The dialog keeps the focus inside (Tab
 * cycles through its controls) and Escape is Cancel (components/Dialog.tsx);
 * neither re-mounts the content, so the choices stay while it is open.
 */
export function ConflictDialog({ conflicts, fields, onResolve, onCancel, wording }: Props) {
  const words = { ...RECORD_WORDING, ...wording };
  const fieldOf = (name: string) => fields.find((f) => f.name === name);
  const label = (name: string) => fieldOf(name)?.label ?? name;
  const [chosen, setChosen] = useState<Record<string, Keep>>({});
  const keep = (name: string): Keep => chosen[name] ?? "mine";
  return (
    <Dialog labelledBy="conflict-title" onClose={onCancel}>
      <h2 id="conflict-title">{words.title}</h2>
      {words.intro && <p>{words.intro}</p>}
      <table className="grid conflicts">
        <thead>
          <tr>
            <th>Field</th>
            <th>{words.base}</th>
            <th>{words.theirs}</th>
            <th>{words.yours}</th>
            {onResolve && <th>Keep</th>}
          </tr>
        </thead>
        <tbody>
          {conflicts.map((c) => (
            <tr key={c.field} data-field={c.field}>
              <th scope="row">{label(c.field)}</th>
              <td data-label={words.base}>{display(c.base, fieldOf(c.field))}</td>
              <td data-label={words.theirs}>{display(c.theirs, fieldOf(c.field))}</td>
              <td data-label={words.yours}>{display(c.yours, fieldOf(c.field))}</td>
              {onResolve && (
                <td data-label="Keep">
                  <select
                    aria-label={`Keep which value of ${label(c.field)}`}
                    value={keep(c.field)}
                    onChange={(e) => {
                      const value = e.target.value as Keep;
                      setChosen((current) => ({ ...current, [c.field]: value }));
                    }}
                  >
                    <option value="mine">{words.keepMine}</option>
                    <option value="theirs">{words.keepTheirs}</option>
                  </select>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        <button type="button" className="secondary" onClick={onCancel}>
          {onResolve ? "Cancel" : "Close"}
        </button>
        {onResolve && (
          <button
            type="button"
            onClick={() => onResolve(Object.fromEntries(conflicts.map((c) => [c.field, keep(c.field)])))}
          >
            {words.apply}
          </button>
        )}
      </div>
    </Dialog>
  );
}
