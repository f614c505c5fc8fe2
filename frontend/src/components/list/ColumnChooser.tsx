import type { ColumnPref, FieldMeta } from "../../api/models";
import { formatsFor } from "../../format";
import { Dialog } from "../Dialog";

interface Props {
  fields: FieldMeta[];
  columns: ColumnPref[];
  onChange: (columns: ColumnPref[]) => void;
  onReset: () => void;
  onClose: () => void;
}

const WIDTHS = [
  { value: "", label: "Auto" },
  { value: "100", label: "Narrow" },
  { value: "200", label: "Medium" },
  { value: "320", label: "Wide" },
];

/** Which columns show, in which order, how wide and in which format; applied as you go. */
export function ColumnChooser({ fields, columns, onChange, onReset, onClose }: Props) {
  const shown = new Map(columns.map((c, i) => [c.field, i]));
  // Shown columns in their order, then the hidden ones in the resource's order.
  const ordered = [
    ...columns.map((c) => fields.find((f) => f.name === c.field)).filter((f): f is FieldMeta => Boolean(f)),
    ...fields.filter((f) => !shown.has(f.name)),
  ];

  function patch(name: string, change: Partial<ColumnPref>) {
    onChange(
      columns.map((c) => {
        if (c.field !== name) return c;
        const next: ColumnPref = { ...c, ...change };
        if (!next.width) delete next.width;
        if (!next.format) delete next.format;
        return next;
      }),
    );
  }

  function move(name: string, by: number) {
    const index = columns.findIndex((c) => c.field === name);
    const target = index + by;
    if (index < 0 || target < 0 || target >= columns.length) return;
    const next = [...columns];
    [next[index], next[target]] = [next[target], next[index]];
    onChange(next);
  }

  return (
    <Dialog label="Columns" onClose={onClose}>
      <h2>Columns</h2>
      <table className="grid compact">
        <thead>
          <tr>
            <th>Show</th>
            <th>Format</th>
            <th>Width</th>
            <th>Order</th>
          </tr>
        </thead>
        <tbody>
          {ordered.map((f) => {
            const column = columns.find((c) => c.field === f.name);
            const formats = formatsFor(f);
            return (
              <tr key={f.name} data-field={f.name}>
                <td>
                  <label className="check">
                    <input
                      type="checkbox"
                      checked={Boolean(column)}
                      disabled={Boolean(column) && columns.length === 1}
                      onChange={(e) =>
                        onChange(e.target.checked ? [...columns, { field: f.name }] : columns.filter((c) => c.field !== f.name))
                      }
                    />
                    {f.label}
                  </label>
                </td>
                <td>
                  {formats.length > 0 && (
                    <select
                      aria-label={`Format of ${f.label}`}
                      disabled={!column}
                      value={column?.format ?? ""}
                      onChange={(e) => patch(f.name, { format: e.target.value || undefined })}
                    >
                      <option value="">Default</option>
                      {formats.map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label}
                        </option>
                      ))}
                    </select>
                  )}
                </td>
                <td>
                  <select
                    aria-label={`Width of ${f.label}`}
                    disabled={!column}
                    value={column?.width ? String(column.width) : ""}
                    onChange={(e) => patch(f.name, { width: e.target.value ? Number(e.target.value) : undefined })}
                  >
                    {WIDTHS.map((w) => (
                      <option key={w.value} value={w.value}>
                        {w.label}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="order">
                  <button type="button" className="secondary icon" aria-label={`Move ${f.label} up`} disabled={!column || shown.get(f.name) === 0} onClick={() => move(f.name, -1)}>
                    ↑
                  </button>
                  <button
                    type="button"
                    className="secondary icon"
                    aria-label={`Move ${f.label} down`}
                    disabled={!column || shown.get(f.name) === columns.length - 1}
                    onClick={() => move(f.name, 1)}
                  >
                    ↓
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="actions">
        <button type="button" className="secondary" onClick={onReset}>
          Reset to default
        </button>
        <span className="spacer" />
        <button type="button" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
