// The address of a list's export: the same query the list sends for its
// rows (filters, search, deleted view, sort), with the visible columns in
// their order, all pages at once.
import { type QueryOf, recordsQuery, serializeQuery } from "../../api/query";

export type ExportFormat = "csv" | "xlsx";

/**
 * `GET /api/r/{resource}.csv` (or `.xlsx`) for the list whose flat query is
 * `params` (its filters in `filter[field][op]` form, `q`, `deleted`), sorted
 * by `sort` (the list's sort text; "" for the resource's default), with
 * `columns` in order.
 */
export function exportUrl(
  resource: string,
  format: ExportFormat,
  params: Record<string, string>,
  sort: string,
  columns: string[],
): string {
  const { q, deleted, sort: order, filter } = recordsQuery({ ...params, ...(sort ? { sort } : {}) });
  const query: QueryOf<"exportRecordsCsv"> & QueryOf<"exportRecordsXlsx"> = {
    q,
    deleted,
    sort: order,
    filter,
    ...(columns.length > 0 ? { columns: columns.join(",") } : {}),
  };
  const text = serializeQuery(query);
  return `/api/r/${encodeURIComponent(resource)}.${format}${text ? `?${text}` : ""}`;
}
