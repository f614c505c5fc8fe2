import { Fragment, type KeyboardEvent, type ReactNode } from "react";
import { Link } from "react-router-dom";
import { createColumnHelper, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import type { FieldValue, FilterPref, RecordBody, ResourceMeta } from "../../api/models";
import type { PresenceUser } from "../../live";
import type { SortKey } from "../../listState";
import { recordKey } from "../../recordKey";
import { cellContent, type RelationLabels, type ShownField } from "./cells";
import { useColumnLayout, type ColumnsChange } from "./columnLayout";
import { FilterControl } from "./FilterControl";
import { PresenceStack } from "./PresenceStack";
import { DeletedBy, TrashActions } from "./Trash";

const column = createColumnHelper<RecordBody>();

/**
 * A header's or cell's content: its function called, not mounted as a
 * component (what flexRender does). The column definitions are made afresh
 * each render, so as components they would be new types each time and React
 * would re-mount every cell, losing the state inside (an open purge dialog).
 * The functions here use no hooks; what they return keeps its identity.
 */
function render<C>(content: ((context: C) => ReactNode) | string | undefined, context: C): ReactNode {
  return typeof content === "function" ? content(context) : content;
}
const ORDINALS = ["1st", "2nd", "3rd"];

interface Props {
  meta: ResourceMeta;
  rows: RecordBody[];
  shown: ShownField[];
  labels: RelationLabels;
  sort: SortKey[];
  onSort: (field: string, add: boolean) => void;
  filters: FilterPref[];
  onFilters: (filters: FilterPref[]) => void;
  /** The deleted view: who deleted each row, and restore / purge. */
  trash: boolean;
  highlighted: Set<string>;
  present: Map<string, PresenceUser[]>;
  /** After the last row (the sentinel that loads the next page). */
  footer?: ReactNode;
  /** Moving and resizing columns from the header changes the user's list settings. */
  onColumns?: ColumnsChange;
}

/** The name a record goes by in messages: its display field, else its key. */
export function recordName(meta: ResourceMeta, row: RecordBody, key: string): string {
  const named = row[meta.display];
  return named === null || named === undefined || named === "" ? key : String(named);
}

function SortMark({ position, desc, of }: { position: number; desc: boolean; of: number }) {
  if (position < 0) return null;
  return (
    <>
      <span aria-hidden="true" className="sort-mark">
        {desc ? "▼" : "▲"}
        {of > 1 && <sup>{position + 1}</sup>}
      </span>
      <span className="sr-only">
        {of > 1 ? `, sorted ${ORDINALS[position] ?? `${position + 1}th`}` : ", sorted"} {desc ? "descending" : "ascending"}
      </span>
    </>
  );
}

/**
 * The list as a table: a sticky header (sort buttons over the filter row),
 * one line per record (cells cut with an ellipsis, the whole value in the
 * tooltip), the first cell linking to the record. A click on a header sorts
 * by that column alone; Shift+click (or Shift+Enter) adds it to the sort, and
 * each sorted header shows its direction and, with several keys, its place.
 */
export function ListTable({ meta, rows, shown, labels, sort, onSort, filters, onFilters, trash, highlighted, present, footer, onColumns }: Props) {
  const resource = meta.name;
  const layout = useColumnLayout(onColumns);
  const columns = [
    ...shown.map((c) =>
      column.accessor((row) => row[c.field.name], {
        id: c.field.name,
        header: c.field.label,
        cell: (info) => {
          const { node, title } = cellContent(c, info.getValue(), labels);
          const cellWidth = layout.widthOf(c.field.name, c.pref.width);
          return (
            <div className="cell" title={title} style={cellWidth ? { maxWidth: cellWidth } : undefined}>
              {node}
            </div>
          );
        },
      }),
    ),
  ];
  if (trash) {
    // In the deleted view, who deleted and the way back come right after the record's link.
    columns.splice(
      1,
      0,
      column.accessor((row): FieldValue => row._deleted_at, {
        id: "_deleted",
        header: "Deleted",
        cell: (info) => {
          const key = recordKey(meta, info.row.original);
          return key === null ? null : <DeletedBy resource={resource} pk={key} at={info.row.original._deleted_at} />;
        },
      }),
      column.accessor((row): FieldValue => row._version, {
        id: "_actions",
        header: () => <span className="sr-only">Actions</span>,
        cell: (info) => {
          const key = recordKey(meta, info.row.original);
          return key === null ? null : <TrashActions meta={meta} row={info.row.original} pk={key} name={recordName(meta, info.row.original, key)} />;
        },
      }),
    );
  }
  // TanStack Table returns fresh functions each render, so this component is not
  // memoised by the React Compiler; nothing here memoises on the table object.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), manualSorting: true });

  function moveFocus(e: KeyboardEvent<HTMLTableSectionElement>) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const links = Array.from(e.currentTarget.querySelectorAll<HTMLAnchorElement>("a.row-link"));
    const index = links.indexOf(document.activeElement as HTMLAnchorElement);
    const next = links[index + (e.key === "ArrowDown" ? 1 : -1)];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  }

  return (
    <table className="grid list">
      <thead>
        {table.getHeaderGroups().map((group) => (
          <tr key={group.id}>
            {group.headers.map((header) => {
              if (header.id.startsWith("_")) {
                return <th key={header.id}>{render(header.column.columnDef.header, header.getContext())}</th>;
              }
              const position = sort.findIndex((k) => k.field === header.id);
              const key = sort[position];
              // aria-sort names the leading key only (one header at a time, as ARIA asks).
              const state = position === 0 ? (key.desc ? "descending" : "ascending") : "none";
              const shownField = shown.find((c) => c.field.name === header.id);
              const width = layout.widthOf(header.id, shownField?.pref.width);
              return (
                <th
                  key={header.id}
                  aria-sort={state}
                  style={width ? { width, minWidth: width, maxWidth: width } : undefined}
                  className={layout.dragging === header.id ? "dragging" : undefined}
                  {...layout.headerProps(header.id)}
                >
                  <button
                    type="button"
                    className="sort"
                    title="Sort by this column; Shift+click adds it to the sort"
                    onClick={(e) => onSort(header.id, e.shiftKey)}
                    onKeyDown={(e) => {
                      if (e.key === "Enter" && e.shiftKey) {
                        e.preventDefault();
                        onSort(header.id, true);
                      }
                    }}
                  >
                    {render(header.column.columnDef.header, header.getContext())}
                    <SortMark position={position} desc={key?.desc ?? false} of={sort.length} />
                  </button>
                  {onColumns && <span {...layout.handleProps(header.id, shownField?.field.label ?? header.id, shownField?.pref.width)} />}
                </th>
              );
            })}
          </tr>
        ))}
        <tr className="filters">
          {shown.map((c, index) => (
            <Fragment key={c.field.name}>
              <td>
                <FilterControl field={c.field} filters={filters} onChange={onFilters} />
              </td>
              {trash && index === 0 && <td colSpan={2} />}
            </Fragment>
          ))}
        </tr>
      </thead>
      <tbody onKeyDown={moveFocus}>
        {table.getRowModel().rows.map((row) => {
          const key = recordKey(meta, row.original);
          const id = key ?? `row-${row.index}`;
          return (
            <tr key={id} data-pk={id} className={highlighted.has(id) ? "flash" : undefined}>
              {row.getVisibleCells().map((cell, index) => (
                <td key={cell.id}>
                  {index === 0 ? (
                    <div className="first-cell">
                      {key === null ? (
                        render(cell.column.columnDef.cell, cell.getContext())
                      ) : (
                        <Link className="row-link" to={`/r/${resource}/${encodeURIComponent(key)}`}>
                          {render(cell.column.columnDef.cell, cell.getContext())}
                        </Link>
                      )}
                      <PresenceStack users={present.get(id) ?? []} />
                    </div>
                  ) : (
                    render(cell.column.columnDef.cell, cell.getContext())
                  )}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
      {footer && (
        <tfoot>
          <tr>
            <td colSpan={columns.length}>{footer}</td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}
