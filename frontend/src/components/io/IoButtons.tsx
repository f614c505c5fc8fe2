// The list toolbar's export links and import entry. The export follows the
// list as shown (exportUrl.ts); the import is for those who may add or change
// records of the resource.
import { Link } from "react-router-dom";
import type { ResourceMeta } from "../../api/models";
import { importPath } from "../../paths";
import { exportUrl, type ExportFormat } from "./exportUrl";
import "./io.css";

interface Props {
  meta: ResourceMeta;
  /** The list's flat query (filters, `q`, `deleted`), as it sends it for its rows. */
  params: Record<string, string>;
  /** The list's sort text ("" for the default). */
  sort: string;
  /** The visible columns' fields, in order. */
  columns: string[];
  /** The list's total when known (null: too many to count). */
  total: number | null | undefined;
  /** The deleted view is shown: no import from there. */
  trash: boolean;
}

const FORMATS: { format: ExportFormat; label: string }[] = [
  { format: "csv", label: "CSV" },
  { format: "xlsx", label: "Excel" },
];

export function IoButtons({ meta, params, sort, columns, total, trash }: Props) {
  const rows = total === undefined ? "" : total === null ? "all matching rows" : `${total} row${total === 1 ? "" : "s"}`;
  const mayImport = !trash && (meta.actions.includes("add") || meta.actions.includes("change"));
  return (
    <span className="io-buttons" role="group" aria-label="Export and import">
      <span className="muted">Export{rows ? ` ${rows}` : ""}:</span>
      {FORMATS.map(({ format, label }) => (
        <a
          key={format}
          className="button secondary"
          href={exportUrl(meta.name, format, params, sort, columns)}
          download
          aria-label={`Export ${rows || "the list"} as ${label}`}
          title={`Download the list as shown (filters, sort, search, columns) as ${label}`}
        >
          {label}
        </a>
      ))}
      {mayImport && (
        <Link className="button secondary" to={importPath(meta.name)}>
          Import…
        </Link>
      )}
    </span>
  );
}
