import { Fragment, type KeyboardEvent, type ReactNode } from "react";
import { Link } from "react-router-dom";
import type { FilterPref, RecordBody, ResourceMeta } from "../../api/models";
import type { PresenceUser } from "../../live";
import type { RowSelection } from "../../hooks/useRowSelection";
import type { SortKey } from "../../listState";
import { recordKey } from "../../recordKey";
import { cellContent, type RelationLabels, type ShownField } from "./cells";
import { useColumnLayout, type ColumnsChange } from "./columnLayout";
import { FilterControl } from "./FilterControl";
import { PresenceStack } from "./PresenceStack";
import { DeletedBy, TrashActions } from "./Trash";

/**
 * A column of the table: its header and how a row's cell shows. The cell is
 * a function called, not mounted as a component: the columns are made afresh
 * each render, so as components they would be new types each time and React
 * would re-mount every cell, losing the state inside (an open purge dialog).
 * The functions use no hooks; what they return keeps its identity.
 */
interface Column {
  id: string;
  header: ReactNode;
  cell: (row: RecordBody) => ReactNode;
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
  /** The rows chosen for a bulk action: a checkbox column first. */
  selection?: RowSelection;
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
export function ListTable({ meta, rows, shown, labels, sort, onSort, filters, onFilters, trash, highlighted, present, footer, onColumns, selection }: Props) {
  const resource = meta.name;
  const layout = useColumnLayout(onColumns);
  const columns: Column[] = shown.map((c) => ({
    id: c.field.name,
    header: c.field.label,
    cell: (row) => {
      const { node, title } = cellContent(c, row[c.field.name], labels);
      const cellWidth = layout.widthOf(c.field.name, c.pref.width);
      return (
        <div className="cell" title={title} style={cellWidth ? { maxWidth: cellWidth } : undefined}>
          {node}
        </div>
      );
    },
  }));
  if (trash) {
    // In the deleted view, who deleted and the way back come right after the record's link.
    columns.splice(
      1,
      0,
      {
        id: "_deleted",
        header: "Deleted",
        cell: (row) => {
          const key = recordKey(meta, row);
          return key === null ? null : <DeletedBy resource={resource} pk={key} at={row._deleted_at} />;
        },
      },
      {
        id: "_actions",
        header: <span className="sr-only">Actions</span>,
        cell: (row) => {
          const key = recordKey(meta, row);
          return key === null ? null : <TrashActions meta={meta} row={row} pk={key} name={recordName(meta, row, key)} />;
        },
      },
    );
  }

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
        <tr>
          {columns.map((header) => {
            if (header.id.startsWith("_")) {
              return <th key={header.id}>{header.header}</th>;
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
                  {header.header}
                  <SortMark position={position} desc={key?.desc ?? false} of={sort.length} />
                </button>
                {onColumns && <span {...layout.handleProps(header.id, shownField?.field.label ?? header.id, shownField?.pref.width)} />}
              </th>
            );
          })}
        </tr>
        <tr className="filters">
          {shown.map((c, index) => (
            <Fragment key={c.field.name}>
              <td>
                {selection && index === 0 ? (
                  // The page's checkbox heads the rows' checkboxes (not in the header: it would join the column's name).
                  <div className="first-cell">
                    <PageCheckbox selection={selection} label={`Choose all loaded ${meta.label_plural.toLowerCase()}`} />
                    <FilterControl field={c.field} filters={filters} onChange={onFilters} />
                  </div>
                ) : (
                  <FilterControl field={c.field} filters={filters} onChange={onFilters} />
                )}
              </td>
              {trash && index === 0 && <td colSpan={2} />}
            </Fragment>
          ))}
        </tr>
      </thead>
      <tbody onKeyDown={moveFocus}>
        {rows.map((row, rowIndex) => {
          const key = recordKey(meta, row);
          const id = key ?? `row-${rowIndex}`;
          return (
            <tr
              key={id}
              data-pk={id}
              className={[highlighted.has(id) ? "flash" : "", key !== null && selection?.has(key) ? "chosen" : ""].filter(Boolean).join(" ") || undefined}
              aria-selected={selection && key !== null ? selection.has(key) : undefined}
            >
              {columns.map((column, index) => (
                <td key={column.id}>
                  {index === 0 ? (
                    <div className="first-cell">
                      {selection && key !== null && (
                        <input
                          type="checkbox"
                          className="row-check"
                          aria-label={`Choose ${recordName(meta, row, key)}`}
                          checked={selection.has(key)}
                          onChange={() => selection.toggle(key)}
                        />
                      )}
                      {key === null ? (
                        column.cell(row)
                      ) : (
                        <Link className="row-link" to={`/r/${resource}/${encodeURIComponent(key)}`}>
                          {column.cell(row)}
                        </Link>
                      )}
                      <PresenceStack users={present.get(id) ?? []} />
                    </div>
                  ) : (
                    column.cell(row)
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

/** The header's checkbox: every loaded row, some of them (mixed), or none. */
export function PageCheckbox({ selection, label }: { selection: RowSelection; label: string }) {
  return (
    <input
      type="checkbox"
      className="row-check"
      aria-label={label}
      checked={selection.pageState === "all"}
      ref={(box) => {
        if (box) box.indeterminate = selection.pageState === "some";
      }}
      onChange={selection.togglePage}
    />
  );
}
