import type { FieldMeta, FilterOperator, FilterPref } from "../../api/models";
import { filterValue, withFilter } from "../../hooks/useViewPref";
import { keyText } from "../../relations";
import { DebouncedInput } from "../DebouncedInput";
import { RelationPicker } from "../RelationPicker";

interface Props {
  field: FieldMeta;
  filters: FilterPref[];
  onChange: (filters: FilterPref[]) => void;
}

/**
 * The filter for one column, typed by the field: contains, a range, a choice,
 * a related record or an array's elements. Only operators the field lists in
 * `operators` are offered: the server refuses any other with a 400, and a
 * refused filter saved in the list's settings would break the list.
 */
export function FilterControl({ field, filters, onChange }: Props) {
  const set = (op: string) => (value: string) => onChange(withFilter(filters, field.name, op, value));
  const label = field.label;
  const allows = (op: FilterOperator) => (field.operators ?? []).includes(op);
  if ((field.choices || field.type === "boolean") && allows("eq")) {
    const choices = field.choices ?? ["true", "false"];
    return (
      <select aria-label={`Filter ${label}`} value={filterValue(filters, field.name, "eq")} onChange={(e) => set("eq")(e.target.value)}>
        <option value="">All</option>
        {choices.map((c) => (
          <option key={c} value={c}>
            {field.type === "boolean" ? (c === "true" ? "Yes" : "No") : c}
          </option>
        ))}
      </select>
    );
  }
  if (field.relation && allows("eq")) {
    // The related record by name (searched on the server), whatever the size of its table.
    const chosen = filterValue(filters, field.name, "eq");
    return (
      <RelationPicker
        field={field}
        value={chosen === "" ? null : chosen}
        onChange={(v) => set("eq")(keyText(v))}
        ariaLabel={`Filter ${label}`}
        placeholder="any"
        clearable
      />
    );
  }
  if (field.type === "array") {
    // has: the array holds this element; overlaps: it holds any of these (comma-separated).
    return (
      <div className="range">
        {allows("has") && (
          <DebouncedInput
            type="text"
            aria-label={`${label} has`}
            placeholder="has…"
            value={filterValue(filters, field.name, "has")}
            onCommit={set("has")}
          />
        )}
        {allows("overlaps") && (
          <DebouncedInput
            type="text"
            aria-label={`${label} has any of`}
            placeholder="any of a, b…"
            value={filterValue(filters, field.name, "overlaps")}
            onCommit={set("overlaps")}
          />
        )}
      </div>
    );
  }
  const numeric = field.type === "integer" || field.type === "decimal" || field.type === "float";
  if ((numeric || field.type === "date" || field.type === "datetime") && allows("gte") && allows("lte")) {
    // A date-time with an offset is filtered by whole days in UTC; a naive one by its own wall-clock days.
    const stamp = (op: string, day: string) =>
      field.type !== "datetime" || day === ""
        ? day
        : `${day}T${op === "gte" ? "00:00:00" : "23:59:59"}${field.timezone === false ? "" : "Z"}`;
    const bound = (op: "gte" | "lte", word: string) => (
      <DebouncedInput
        // Decimals are typed as text: a number input would round what it reports.
        type={field.type === "decimal" ? "text" : numeric ? "number" : "date"}
        inputMode={numeric ? "decimal" : undefined}
        aria-label={`${label} ${word}`}
        placeholder={word}
        value={filterValue(filters, field.name, op).slice(0, numeric ? undefined : 10)}
        onCommit={(v) => set(op)(stamp(op, v))}
      />
    );
    return (
      <div className="range">
        {bound("gte", "from")}
        {bound("lte", "to")}
      </div>
    );
  }
  const text = allows("icontains") ? "icontains" : allows("contains") ? "contains" : allows("eq") ? "eq" : null;
  if (text === null) return null;
  return (
    <DebouncedInput
      type="text"
      aria-label={`Filter ${label}`}
      placeholder={text === "eq" ? "equals…" : "contains…"}
      value={filterValue(filters, field.name, text)}
      onCommit={set(text)}
    />
  );
}
