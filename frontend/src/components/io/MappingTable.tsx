// Step 2: which field each column of the file fills, and which field says
// which record a line updates.
import type { FieldMeta } from "../../api/models";
import type { CsvTable } from "./csv";
import { duplicateTargets, type Mapping } from "./mapping";

interface Props {
  table: CsvTable;
  fields: FieldMeta[];
  mapping: Mapping;
  onMapping: (next: Mapping) => void;
  /** The fields a line can be matched by; the first is the resource's key. */
  keys: { value: string; label: string }[];
  keyField: string;
  onKey: (key: string) => void;
}

/** The first few values of a column, to recognise it by. */
function samples(table: CsvTable, index: number): string {
  const seen: string[] = [];
  for (const record of table.records) {
    const value = record.cells[index];
    if (value) seen.push(value);
    if (seen.length === 3) break;
  }
  return seen.join(", ");
}

export function MappingTable({ table, fields, mapping, onMapping, keys, keyField, onKey }: Props) {
  const twice = new Set(duplicateTargets(mapping));
  const label = (name: string) => fields.find((f) => f.name === name)?.label ?? name;
  return (
    <>
      <table className="grid mapping">
        <caption className="muted">
          {table.header.length} column{table.header.length === 1 ? "" : "s"}, {table.records.length} line
          {table.records.length === 1 ? "" : "s"}
        </caption>
        <thead>
          <tr>
            <th scope="col">Column in the file</th>
            <th scope="col">First values</th>
            <th scope="col">Fills the field</th>
          </tr>
        </thead>
        <tbody>
          {table.header.map((header, index) => {
            const target = mapping[header] ?? "";
            return (
              <tr key={`${index}:${header}`}>
                <th scope="row">{header || <span className="muted">(no name)</span>}</th>
                <td className="sample" title={samples(table, index)}>
                  {samples(table, index)}
                </td>
                <td>
                  <select
                    aria-label={`Field for column ${header}`}
                    aria-invalid={twice.has(target) || undefined}
                    value={target}
                    onChange={(e) => onMapping({ ...mapping, [header]: e.target.value })}
                  >
                    <option value="">— leave out —</option>
                    {fields.map((f) => (
                      <option key={f.name} value={f.name}>
                        {f.label}
                        {f.label !== f.name ? ` (${f.name})` : ""}
                      </option>
                    ))}
                  </select>
                  {twice.has(target) && <p className="error">Another column fills {label(target)} too.</p>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {keys.length > 1 ? (
        <label className="key-field">
          Match lines to records by
          <select value={keyField} onChange={(e) => onKey(e.target.value)}>
            {keys.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <p className="key-field">Lines are matched to records by {keys[0]?.label ?? "no key"}.</p>
      )}
    </>
  );
}
