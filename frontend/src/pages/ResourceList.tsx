import { useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import { api } from "../api/client";
import type { RecordBody } from "../api/types";
import { display } from "../format";

const column = createColumnHelper<RecordBody>();
const MAX_COLUMNS = 7;

export function ResourceList() {
  const { resource = "" } = useParams();
  const meta = useQuery({ queryKey: ["describe", resource], queryFn: () => api.describe(resource) });
  const [sort, setSort] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const effectiveSort = sort ?? meta.data?.default_sort.join(",") ?? "";

  const pages = useInfiniteQuery({
    queryKey: ["list", resource, effectiveSort, query],
    enabled: meta.isSuccess,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api.list(resource, {
        limit: "50",
        ...(effectiveSort ? { sort: effectiveSort } : {}),
        ...(query ? { q: query } : {}),
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    getNextPageParam: (last) => last.next_cursor,
  });

  const fields = useMemo(() => (meta.data?.fields ?? []).slice(0, MAX_COLUMNS), [meta.data]);
  const columns = useMemo(
    () =>
      fields.map((f) =>
        column.accessor((row) => row[f.name], {
          id: f.name,
          header: f.label,
          cell: (info) => display(info.getValue(), f),
        }),
      ),
    [fields],
  );
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.items) ?? [], [pages.data]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), manualSorting: true });

  if (meta.error) return <p className="error">{meta.error.message}</p>;
  if (!meta.data) return <p role="status">Loading…</p>;
  const pk = meta.data.pk;
  const total = pages.data?.pages[0]?.total;

  function toggleSort(name: string) {
    const current = effectiveSort.split(",")[0];
    setSort(current === name ? `-${name}` : name);
  }

  return (
    <section>
      <div className="toolbar">
        <h1>{meta.data.label_plural}</h1>
        {total !== undefined && <span className="muted">{total === null ? "many" : total} records</span>}
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
              onChange={(e) => setSearch(e.target.value)}
            />
          </form>
        )}
      </div>
      <table className="grid">
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const first = effectiveSort.split(",")[0];
                const state = first === header.id ? "ascending" : first === `-${header.id}` ? "descending" : "none";
                return (
                  <th key={header.id} aria-sort={state}>
                    <button type="button" className="sort" onClick={() => toggleSort(header.id)}>
                      {flexRender(header.column.columnDef.header, header.getContext())}
                      <span aria-hidden="true">{state === "ascending" ? " ▲" : state === "descending" ? " ▼" : ""}</span>
                    </button>
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} data-pk={String(row.original[pk])}>
              {row.getVisibleCells().map((cell, index) => (
                <td key={cell.id}>
                  {index === 0 ? (
                    <Link to={`/r/${resource}/${String(row.original[pk])}`}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </Link>
                  ) : (
                    flexRender(cell.column.columnDef.cell, cell.getContext())
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {pages.isLoading && <p role="status">Loading…</p>}
      {pages.error && <p className="error">{pages.error.message}</p>}
      {pages.isSuccess && rows.length === 0 && <p className="empty">Nothing matches.</p>}
      {pages.hasNextPage && (
        <button type="button" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          {pages.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
    </section>
  );
}
