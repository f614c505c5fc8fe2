import { Fragment, useEffect, useMemo, useState, type KeyboardEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import { api } from "../api/client";
import type { FieldMeta, RecordBody, ViewConfig } from "../api/types";
import { ColumnChooser } from "../components/list/ColumnChooser";
import { CountsChart } from "../components/list/CountsChart";
import { FilterControl } from "../components/list/FilterControl";
import { ListProblem } from "../components/list/ListProblem";
import { DeletedBy, TrashActions } from "../components/list/Trash";
import { PresenceStack } from "../components/list/PresenceStack";
import { ViewsMenu } from "../components/list/ViewsMenu";
import { ArrayChips, formatCell } from "../format";
import { useListPresence } from "../hooks/useListPresence";
import { useLiveList } from "../hooks/useLiveList";
import { useRelationLabels, useRelationTargets } from "../hooks/useRelations";
import { shownLabel } from "../relations";
import { filterParams, filterValue, useViewPref, withFilter } from "../hooks/useViewPref";
import { recordKey } from "../recordKey";

const column = createColumnHelper<RecordBody>();
const PAGE_SIZE = "50";

/** One list per resource: its state starts afresh when the resource changes. */
export function ResourceList() {
  const { resource = "" } = useParams();
  return <ResourceListOf key={resource} resource={resource} />;
}

function ResourceListOf({ resource }: { resource: string }) {
  const meta = useQuery({ queryKey: ["describe", resource], queryFn: () => api.describe(resource) });
  const { config, error: prefError, update } = useViewPref(resource);
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [choosing, setChoosing] = useState(false);
  const fields = useMemo(() => meta.data?.fields ?? [], [meta.data]);
  const byName = useMemo(() => new Map(fields.map((f) => [f.name, f])), [fields]);
  const targets = useRelationTargets(fields);
  const chartFields = useMemo(() => fields.filter((f) => f.choices || f.type === "boolean"), [fields]);
  const [chartBy, setChartBy] = useState<string | null>(null);
  const chartField = (chartBy ? byName.get(chartBy) : undefined) ?? chartFields[0];

  // A link may name filters (`?filter[course_id]=5`, from a checklist step): they are
  // applied to the list's settings once loaded, then dropped from the address.
  const [linked, setLinked] = useSearchParams();
  const ready = config !== null;
  useEffect(() => {
    if (!ready) return;
    const named = [...linked.entries()].flatMap(([key, value]) => {
      const match = /^filter\[([^\]]+)\](?:\[([a-z]+)\])?$/.exec(key);
      return match ? [{ field: match[1], op: match[2] ?? "eq", value }] : [];
    });
    if (named.length === 0) return;
    update((c) => ({ ...c, filters: named.reduce((all, f) => withFilter(all, f.field, f.op, f.value), c.filters) }));
    setLinked((current) => new URLSearchParams([...current].filter(([key]) => !key.startsWith("filter["))), { replace: true });
  }, [ready, linked, setLinked, update]);
  // The deleted view (`?deleted=only`): the records deleted softly, to restore or purge.
  const trash = linked.get("deleted") === "only" && meta.data?.soft_delete === true;

  const sort = config?.sort || meta.data?.default_sort.join(",") || "";
  const filters = useMemo(() => config?.filters ?? [], [config]);
  const params = useMemo(
    () => ({ ...filterParams(filters), ...(query ? { q: query } : {}), ...(trash ? { deleted: "only" } : {}) }),
    [filters, query, trash],
  );
  const key = JSON.stringify(params);

  const pages = useInfiniteQuery({
    queryKey: ["list", resource, sort, key],
    enabled: meta.isSuccess && config !== null,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api.list(resource, {
        limit: PAGE_SIZE,
        ...params,
        ...(sort ? { sort } : {}),
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    getNextPageParam: (last) => last.next_cursor,
  });
  const counts = useQuery({
    queryKey: ["counts", resource, chartField?.name, key],
    enabled: Boolean(chartField) && config !== null,
    queryFn: () => api.counts(resource, { by: chartField!.name, ...params }),
    placeholderData: (previous) => previous,
  });

  const watched = useMemo(
    () => new Set([...filters.map((f) => f.field), ...sort.split(",").map((s) => s.replace(/^[-+]/, ""))]),
    [filters, sort],
  );
  const pk = meta.data ? meta.data.pk : "id";
  const highlighted = useLiveList(resource, pk, watched);
  const present = useListPresence(resource);

  const shownFields = useMemo(
    () =>
      (config?.columns ?? [])
        .map((c) => ({ pref: c, field: byName.get(c.field) }))
        .filter((c): c is { pref: typeof c.pref; field: FieldMeta } => Boolean(c.field)),
    [config, byName],
  );
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.items) ?? [], [pages.data]);
  // The names of the related records on the loaded rows, read by key.
  const labels = useRelationLabels(targets, rows);
  const columns = useMemo(() => {
    const fieldColumns = shownFields.map(({ pref, field }) =>
        column.accessor((row) => row[field.name], {
          id: field.name,
          header: field.label,
          size: pref.width,
          cell: (info) => {
            const value = info.getValue();
            const option = field.relation && value !== null ? labels.get(field.name)?.get(String(value)) : undefined;
            const label = option ? shownLabel(option) : undefined;
            // Long text is cut short unless the user chose otherwise; the cell's title has it all.
            const shown = formatCell(label ?? value, field, pref.format ?? (field.type === "text" ? "truncate:80" : undefined));
            if (shown.badge !== undefined) return <span className={`pill pill-${shown.badge}`}>{shown.text}</span>;
            if (shown.chips) return <ArrayChips chips={shown.chips} />;
            return <span title={shown.title}>{shown.text}</span>;
          },
        }),
      );
    const trashColumns = trash && meta.data
        ? [
            column.display({
              id: "_deleted",
              header: "Deleted",
              cell: (info) => {
                const key = recordKey(meta.data!, info.row.original);
                return key === null ? null : <DeletedBy resource={resource} pk={key} at={info.row.original._deleted_at} />;
              },
            }),
            column.display({
              id: "_actions",
              header: () => <span className="sr-only">Actions</span>,
              cell: (info) => {
                const key = recordKey(meta.data!, info.row.original);
                const named = info.row.original[meta.data!.display];
                return key === null ? null : (
                  <TrashActions meta={meta.data!} row={info.row.original} pk={key} name={named === null || named === undefined ? key : String(named)} />
                );
              },
            }),
          ]
        : [];
    // In the deleted view, who deleted and the way back come right after the record's link.
    return [...fieldColumns.slice(0, 1), ...trashColumns, ...fieldColumns.slice(1)];
  }, [shownFields, labels, trash, meta.data, resource]);
  // TanStack Table returns fresh functions each render, so this component is not
  // memoised by the React Compiler; nothing here memoises on the table object.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), manualSorting: true });

  if (meta.error) return <p className="error">{meta.error.message}</p>;
  if (prefError) return <p className="error">{prefError.message}</p>;
  if (!meta.data || !config) return <p role="status">Loading…</p>;
  const total = pages.data?.pages[0]?.total;
  const first = sort.split(",")[0];

  function toggleSort(name: string) {
    update((c) => ({ ...c, sort: first === name ? `-${name}` : name }));
  }
  function showTrash(on: boolean) {
    setLinked(
      (current) => {
        const next = new URLSearchParams(current);
        if (on) next.set("deleted", "only");
        else next.delete("deleted");
        return next;
      },
    );
  }
  function setFilters(next: ViewConfig["filters"]) {
    update((c) => ({ ...c, filters: next }));
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
    <section>
      <div className="toolbar">
        <h1>{trash ? `Deleted ${meta.data.label_plural.toLowerCase()}` : meta.data.label_plural}</h1>
        {total !== undefined && (
          <span className="muted" data-testid="total">
            {total === null ? "many records" : `${total} record${total === 1 ? "" : "s"}`}
          </span>
        )}
        <span className="spacer" />
        {meta.data.searchable && (
          <form
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              setQuery(search.trim());
            }}
          >
            <input
              type="search"
              aria-label={`Search ${meta.data.label_plural}`}
              placeholder="Search…"
              value={search}
              onChange={(e) => {
                setSearch(e.target.value);
                if (e.target.value === "") setQuery("");
              }}
            />
          </form>
        )}
      </div>
      <div className="toolbar secondary-bar">
        <ViewsMenu
          resource={resource}
          config={config}
          onApply={(next) => update(() => next)}
          mayShare={meta.data.actions.includes("share_view")}
        />
        {meta.data.soft_delete && (
          <div className="segmented" role="group" aria-label="Which records">
            <button type="button" aria-pressed={!trash} onClick={() => showTrash(false)}>
              Records
            </button>
            <button type="button" aria-pressed={trash} onClick={() => showTrash(true)}>
              Deleted
            </button>
          </div>
        )}
        <span className="spacer" />
        {meta.data.actions.includes("add") && (
          <Link className="button secondary" to={`/r/${resource}/drafts/new`}>
            New draft
          </Link>
        )}
        {filters.length > 0 && (
          <button type="button" className="secondary" onClick={() => setFilters([])}>
            Clear filters ({filters.length})
          </button>
        )}
        <button type="button" className="secondary" onClick={() => setChoosing(true)}>
          Columns…
        </button>
      </div>
      {chartField && (
        <div className="chart-box">
          {chartFields.length > 1 && (
            <select aria-label="Count by" value={chartField.name} onChange={(e) => setChartBy(e.target.value)}>
              {chartFields.map((f) => (
                <option key={f.name} value={f.name}>
                  {f.label}
                </option>
              ))}
            </select>
          )}
          <CountsChart
            field={chartField}
            counts={counts.data}
            loading={counts.isFetching}
            active={filterValue(filters, chartField.name, "eq")}
            onPick={(value) => setFilters(withFilter(filters, chartField.name, "eq", value))}
          />
        </div>
      )}
      <div className="table-wrap">
        <table className="grid">
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const state = first === header.id ? "ascending" : first === `-${header.id}` ? "descending" : "none";
                  const width = shownFields.find((c) => c.field.name === header.id)?.pref.width;
                  if (header.id.startsWith("_")) {
                    return <th key={header.id}>{flexRender(header.column.columnDef.header, header.getContext())}</th>;
                  }
                  return (
                    <th key={header.id} aria-sort={state} style={width ? { width } : undefined}>
                      <button type="button" className="sort" onClick={() => toggleSort(header.id)}>
                        {flexRender(header.column.columnDef.header, header.getContext())}
                        <span aria-hidden="true">{state === "ascending" ? " ▲" : state === "descending" ? " ▼" : ""}</span>
                      </button>
                    </th>
                  );
                })}
              </tr>
            ))}
            <tr className="filters">
              {shownFields.map(({ field }, index) => (
                <Fragment key={field.name}>
                  <td>
                    <FilterControl field={field} filters={filters} onChange={setFilters} />
                  </td>
                  {trash && index === 0 && <td colSpan={2} />}
                </Fragment>
              ))}
            </tr>
          </thead>
          <tbody onKeyDown={moveFocus}>
            {table.getRowModel().rows.map((row) => {
              const key = recordKey({ pk }, row.original);
              const id = key ?? `row-${row.index}`;
              return (
                <tr key={id} data-pk={id} className={highlighted.has(id) ? "flash" : undefined}>
                  {row.getVisibleCells().map((cell, index) => (
                    <td key={cell.id}>
                      {index === 0 ? (
                        <>
                          {key === null ? (
                            flexRender(cell.column.columnDef.cell, cell.getContext())
                          ) : (
                            <Link className="row-link" to={`/r/${resource}/${encodeURIComponent(key)}`}>
                              {flexRender(cell.column.columnDef.cell, cell.getContext())}
                            </Link>
                          )}
                          <PresenceStack users={present.get(id) ?? []} />
                        </>
                      ) : (
                        flexRender(cell.column.columnDef.cell, cell.getContext())
                      )}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {pages.isLoading && <p role="status">Loading…</p>}
      {pages.error && (
        <ListProblem
          error={pages.error}
          filtered={filters.length > 0 || Boolean(config?.sort)}
          // Saved at once as the user's list settings, so the next visit works too.
          onClear={() => update((c) => ({ ...c, filters: [], sort: "" }), true)}
        />
      )}
      {pages.isSuccess && rows.length === 0 && (
        <p className="empty">
          {filters.length || query
            ? "Nothing matches these filters."
            : trash
              ? `No deleted ${meta.data.label_plural.toLowerCase()}.`
              : "There are no records yet."}
        </p>
      )}
      {pages.hasNextPage && (
        <button type="button" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          {pages.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
      {choosing && (
        <ColumnChooser
          fields={fields}
          columns={config.columns}
          onChange={(next) => update((c) => ({ ...c, columns: next }))}
          onReset={() => update(() => ({ columns: fields.map((f) => ({ field: f.name })), sort: "", filters: [] }))}
          onClose={() => setChoosing(false)}
        />
      )}
    </section>
  );
}
