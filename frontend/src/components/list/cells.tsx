// One list cell's content, shared by the table and the phone's cards: the
// value under its column format, a related record's name, and the full text
// for the tooltip (cells are one line, cut with an ellipsis).
import type { ReactNode } from "react";
import type { ColumnPref, FieldMeta, FieldValue } from "../../api/models";
import { ArrayChips, display, formatCell } from "../../format";
import { keyText, shownLabel, type RelationOption } from "../../relations";

/** A shown column: its saved settings and its field. */
export interface ShownField {
  pref: ColumnPref;
  field: FieldMeta;
}

/** The names of related records on the loaded rows, by field name then key text. */
export type RelationLabels = Map<string, Map<string, RelationOption | null>>;

export function cellContent(
  { pref, field }: ShownField,
  value: FieldValue | undefined,
  labels: RelationLabels,
): { node: ReactNode; title: string } {
  if (field.relation && value !== null && value !== undefined) {
    const id = keyText(value);
    const option = labels.get(field.name)?.get(id);
    // While the name loads (or when no visible record has the key) the key shows.
    const text = option ? shownLabel(option) : `#${id}`;
    return { node: text, title: option ? `${text} (#${id})` : text };
  }
  // Long text is cut short unless the user chose otherwise; the tooltip has it all.
  const shown = formatCell(value, field, pref.format ?? (field.type === "text" ? "truncate:80" : undefined));
  const title = shown.title ?? (shown.chips ? shown.chips.join(", ") : display(value, field));
  if (shown.badge !== undefined) return { node: <span className={`pill pill-${shown.badge}`}>{shown.text}</span>, title };
  if (shown.chips) return { node: <ArrayChips chips={shown.chips} />, title };
  return { node: shown.text, title };
}
