// Step 3: what the import would do, line by line: insert, update or
// unchanged, each error under the cell it is about (with the file's line
// number), a line changed by someone since the preview marked with whose
// value is whose.
import { useMemo, useState } from "react";
import type { ImportConflict, ImportResult, ImportRow } from "../../api/models";
import type { CsvRecord } from "./csv";

/** A column of the file as sent: its header in the file, the cell index there, the field it fills. */
export interface PreviewColumn {
  header: string;
  index: number;
  field: string;
  label: string;
}

interface Props {
  result: ImportResult;
  /** The file's lines by line number (a CSV read here); none for a workbook. */
  records: Map<number, CsvRecord> | null;
  columns: PreviewColumn[];
  /** A field's label, for a problem about a field no column fills (a required one left out). */
  labelOf?: (field: string) => string;
}

/** Lines shown at once; the summary counts all, and "only problems" finds the rest. */
const SHOWN = 500;

function text(value: unknown): string {
  if (value === null || value === undefined || value === "") return "(empty)";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function lineState(row: ImportRow): "invalid" | "conflict" | ImportRow["op"] {
  if (row.errors && row.errors.length > 0) return "invalid";
  if (row.conflicts && row.conflicts.length > 0) return "conflict";
  return row.op;
}

export function Summary({ result }: { result: ImportResult }) {
  const { insert, update, unchanged, invalid } = result.summary;
  const { conflicts } = result.summary;
  return (
    <p className="summary" data-testid="import-summary">
      <span className="op op-insert">{insert} new</span>
      <span className="op op-update">{update} to update</span>
      <span className="op">{unchanged} unchanged</span>
      {invalid > 0 && <span className="op op-invalid">{invalid} with errors</span>}
      {conflicts > 0 && <span className="op op-conflict">{conflicts} changed since the preview</span>}
    </p>
  );
}

export function PreviewTable({ result, records, columns, labelOf = (field) => field }: Props) {
  const troubled = result.rows.filter((r) => (r.errors?.length ?? 0) > 0 || (r.conflicts?.length ?? 0) > 0);
  const [onlyProblems, setOnlyProblems] = useState(false);
  const rows = onlyProblems ? troubled : result.rows;
  const known = useMemo(() => new Set(columns.flatMap((c) => [c.field, c.header])), [columns]);
  const shown = rows.slice(0, SHOWN);
  // A column of its own for problems no column's cell holds (a line's cell count, a required field left out).
  const loose = result.rows.some(
    (r) => (r.errors ?? []).some((e) => !known.has(e.field)) || (r.conflicts ?? []).some((x) => !known.has(x.field)),
  );
  return (
    <>
      <div className="wizard-actions">
        <label className="check">
          <input type="checkbox" checked={onlyProblems} onChange={(e) => setOnlyProblems(e.target.checked)} /> Only lines
          with problems ({troubled.length})
        </label>
        {rows.length > SHOWN && (
          <span className="muted">
            Showing the first {SHOWN} of {rows.length} lines.
          </span>
        )}
      </div>
      <div className="preview-wrap">
        <table className="grid preview" aria-label="Import preview">
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Outcome</th>
              {columns.map((c) => (
                <th scope="col" key={c.index}>
                  {c.label}
                </th>
              ))}
              {loose && <th scope="col">Problems</th>}
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => {
              const state = lineState(row);
              const record = records?.get(row.line);
              const rowErrors = row.errors ?? [];
              const errorsOf = (c: PreviewColumn) => rowErrors.filter((e) => e.field === c.field || e.field === c.header);
              const conflictOf = (c: PreviewColumn): ImportConflict | undefined => row.conflicts?.find((x) => x.field === c.field);
              const other = rowErrors.filter((e) => !known.has(e.field));
              const otherConflicts = (row.conflicts ?? []).filter((x) => !known.has(x.field));
              return (
                <tr key={row.line} className={`row-${state}`} data-line={row.line}>
                  <th scope="row" data-label="Line">
                    {row.line}
                  </th>
                  <td data-label="Outcome">
                    <span className={`op op-${state}`}>{OUTCOME[state]}</span>
                  </td>
                  {columns.map((c) => {
                    const errors = errorsOf(c);
                    const conflict = conflictOf(c);
                    const bad = errors.length > 0 || conflict !== undefined;
                    return (
                      <td key={c.index} data-label={c.label} className={bad ? "cell-error" : undefined} aria-invalid={bad || undefined}>
                        {record ? record.cells[c.index] ?? "" : ""}
                        {errors.map((e, i) => (
                          <span key={i} className="cell-message">
                            Line {row.line}, {c.label}: {e.message}
                          </span>
                        ))}
                        {conflict && (
                          <span className="cell-message">
                            Changed since the preview: now “{text(conflict.theirs)}” (was “{text(conflict.base)}”, yours “
                            {text(conflict.yours)}”)
                          </span>
                        )}
                      </td>
                    );
                  })}
                  {loose && (
                  <td data-label="Problems" className={other.length + otherConflicts.length === 0 ? "no-problems" : undefined}>
                    {other.map((e, i) => (
                      <span key={i} className="cell-message error">
                        Line {row.line}
                        {e.field ? `, ${labelOf(e.field)}` : ""}: {e.message}
                      </span>
                    ))}
                    {otherConflicts.map((x) => (
                      <span key={x.field} className="cell-message error">
                        {labelOf(x.field)} changed since the preview: now “{text(x.theirs)}”
                      </span>
                    ))}
                  </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
        {shown.length === 0 && <p className="empty">{onlyProblems ? "No line has a problem." : "The file has no lines."}</p>}
      </div>
    </>
  );
}

const OUTCOME: Record<ReturnType<typeof lineState>, string> = {
  insert: "new",
  update: "update",
  unchanged: "unchanged",
  invalid: "error",
  conflict: "changed since preview",
};
