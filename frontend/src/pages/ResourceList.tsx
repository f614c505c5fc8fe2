import { Suspense, useEffect, useMemo, useRef, useState } from "react";
import { Link, useLocation, useParams } from "react-router-dom";
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Action, FieldMeta, FilterPref, ResourceMeta } from "../api/models";
import { DebouncedInput } from "../components/DebouncedInput";
import type { ShownField } from "../components/list/cells";
import { CountsChart } from "../components/list/CountsChart";
import { IoButtons } from "../components/io/IoButtons";
import { FilterControl } from "../components/list/FilterControl";
import { ListCards } from "../components/list/ListCards";
import { ListProblem } from "../components/list/ListProblem";
import { bulkFilter, versionsOf, type BulkTarget } from "../components/list/bulk";
import { ListTable, PageCheckbox, recordName } from "../components/list/ListTable";
import { ViewTabs } from "../components/list/ViewTabs";
import { useListPresence } from "../hooks/useListPresence";
import { useListState } from "../hooks/useListState";
import { usePhone } from "../hooks/useMediaQuery";
import { useLiveList } from "../hooks/useLiveList";
import { useRelationLabels, useRelationTargets } from "../hooks/useRelations";
import { useRowSelection } from "../hooks/useRowSelection";
import { useScrollMemory } from "../hooks/useScrollMemory";
import { filterValue, withFilter } from "../hooks/useViewPref";
import {
  clickSort,
  EMPTY_LIST_STATE,
  firstPageQuery,
  formatSort,
  listQuery,
  parseSort,
  type ListState,
  type SortKey,
} from "../listState";
import { recordKey } from "../recordKey";
import { usePageTitle } from "../pageTitle";
import { lazyPage } from "../lazyPage";
import { loadBulkBar, loadColumnChooser, loadRecordPage, preloadWhenIdle } from "../pageChunks";
import { newRecordPath } from "../paths";
import { prefetchRowLink } from "../startup";

// Not on the list's first screen: loaded once rows are shown (or when first wanted).
const BulkBar = lazyPage(loadBulkBar);
const ColumnChooser = lazyPage(loadColumnChooser);

/** The actions a bulk request can do (a resource's record actions run row by row too). */
const BULK_ACTIONS: Action[] = ["change", "delete", "restore", "purge"];

/** One list per resource: its state starts afresh when the resource changes. */
export function ResourceList() {
  const { resource = "" } = useParams();
  return <ResourceListOf key={resource} resource={resource} />;
}

function ResourceListOf({ resource }: { resource: string }) {
  const meta = useQuery({ queryKey: ["describe", resource], queryFn: () => api.describe(resource) });
  if (meta.error) return <p className="error">{meta.error.message}</p>;
  if (!meta.data) return <p role="status">Loading…</p>;
  return <ListPage meta={meta.data} />;
}

/**
 * The list: its query (sort, filters, search, deleted view) in the address
 * (hooks/useListState.ts), its columns in the user's saved settings, its
 * rows paged by cursor, loading the next page as the end scrolls into view.
 */
function ListPage({ meta }: { meta: ResourceMeta }) {
  const resource = meta.name;
  const location = useLocation();
  const list = useListState(resource);
  const { state, columns: columnPrefs, error: prefError, change, apply, updateColumns } = list;
  const [choosing, setChoosing] = useState(false);
  // On a phone: cards, and the filters (with the chart and views) behind a button.
  const phone = usePhone();
  const [filtersOpen, setFiltersOpen] = useState(false);
  const fields = meta.fields;
  const byName = useMemo(() => new Map(fields.map((f) => [f.name, f])), [fields]);
  const targets = useRelationTargets(fields);
  const chartFields = useMemo(() => fields.filter((f) => f.choices || f.type === "boolean"), [fields]);
  const [chartBy, setChartBy] = useState<string | null>(null);
  const chartField = (chartBy ? byName.get(chartBy) : undefined) ?? chartFields[0];

  const trash = Boolean(state?.deleted) && meta.soft_delete;
  usePageTitle(trash ? `Deleted ${meta.label_plural.toLowerCase()}` : meta.label_plural);
  const query = useMemo(() => listQuery(state ?? EMPTY_LIST_STATE, meta), [state, meta]);
  const { sort, params, key } = query;
  const sortKeys = useMemo(() => parseSort(sort), [sort]);
  const filters = useMemo(() => state?.filters ?? [], [state]);
  const q = state?.q ?? "";

  const pages = useInfiniteQuery({
    queryKey: ["list", resource, sort, key],
    enabled: state !== null,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => api.list(resource, { ...firstPageQuery(query), ...(pageParam ? { cursor: pageParam } : {}) }),
    getNextPageParam: (last) => last.next_cursor,
  });
  const counts = useQuery({
    queryKey: ["counts", resource, chartField?.name, key],
    enabled: Boolean(chartField) && state !== null,
    queryFn: () => api.counts(resource, chartField!.name, params),
    placeholderData: (previous) => previous,
  });

  const watched = useMemo(() => new Set([...filters.map((f) => f.field), ...sortKeys.map((k) => k.field)]), [filters, sortKeys]);
  const highlighted = useLiveList(resource, meta, watched);
  const present = useListPresence(resource);

  const shown = useMemo<ShownField[]>(
    () =>
      (columnPrefs ?? [])
        .map((pref) => ({ pref, field: byName.get(pref.field) }))
        .filter((c): c is { pref: typeof c.pref; field: FieldMeta } => Boolean(c.field)),
    [columnPrefs, byName],
  );
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.items) ?? [], [pages.data]);
  // The names of the related records on the loaded rows, read by key (for the columns shown only).
  const shownTargets = useMemo(
    () => new Map([...targets].filter(([name]) => shown.some((c) => c.field.name === name))),
    [targets, shown],
  );
  const labels = useRelationLabels(shownTargets, rows);
  // Rows chosen for a bulk action: chosen afresh for other filters, a search or the deleted view.
  const selection = useRowSelection(meta, rows, key);
  const mayBulk =
    meta.pk !== null &&
    (BULK_ACTIONS.some((a) => meta.actions.includes(a)) ||
      meta.record_actions.length > 0);

  const { fetchNextPage, hasNextPage, isFetchingNextPage } = pages;
  const loadMore = useMemo(() => () => void fetchNextPage(), [fetchNextPage]);
  const scroller = useScrollMemory<HTMLDivElement>({
    entry: location.key,
    pages: pages.data?.pages.length ?? 0,
    hasMore: hasNextPage,
    loadMore,
    ready: pages.isSuccess && !isFetchingNextPage,
  });

  const queryClient = useQueryClient();
  // Once rows are shown, the record page's script loads (and the bulk bar's), so that
  // opening a record waits for no script: at the browser's first idle moment, and in
  // the next task at the latest (a click can come that soon; waiting for a longer idle
  // spell had the script compile while the record opened).
  const shownRows = rows.length > 0;
  useEffect(() => {
    if (shownRows) return preloadWhenIdle([loadRecordPage, loadBulkBar], 1);
  }, [shownRows]);
  // The bulk bar is there from the first chosen row on, and stays: it holds a
  // running job and its outcome after the selection is cleared.
  const chosen = selection.keys.length > 0 || selection.all || selection.gone > 0;
  const [bulkShown, setBulkShown] = useState(false);
  if (chosen && !bulkShown) setBulkShown(true);

  // The next page loads as the end of the list scrolls into view ("Load more" stays, for keyboards).
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const end = sentinel.current;
    if (!end || !hasNextPage || isFetchingNextPage) return;
    // The table box scrolls on a desktop; on a phone the page does.
    const watcher = new IntersectionObserver((seen) => seen.some((e) => e.isIntersecting) && loadMore(), {
      root: phone ? null : scroller.current,
      rootMargin: "0px 0px 400px 0px",
    });
    watcher.observe(end);
    return () => watcher.disconnect();
  }, [hasNextPage, isFetchingNextPage, loadMore, scroller, phone]);

  if (prefError) return <p className="error">{prefError.message}</p>;
  if (!state || !columnPrefs) return <p role="status">Loading…</p>;
  const total = pages.data?.pages[0]?.total;

  const setFilters = (next: FilterPref[]) => change({ filters: next });
  /** The chosen rows as the person sees them now (see BulkTarget). */
  const bulkTarget = (): BulkTarget => {
    const keyOf = (row: (typeof rows)[number]) => recordKey(meta, row);
    const chosen = new Set(selection.keys);
    const seen = rows.filter((row) => chosen.has(keyOf(row) ?? ""));
    const names = Object.fromEntries(seen.map((row) => [keyOf(row), recordName(meta, row, keyOf(row) ?? "")]));
    return {
      pks: selection.all ? null : selection.keys,
      query: selection.all ? { filter: bulkFilter(filters), ...(q ? { q } : {}), ...(trash ? { deleted: "only" as const } : {}) } : null,
      versions: versionsOf(seen, keyOf),
      count: selection.all ? (total ?? seen.length) : selection.keys.length,
      names,
    };
  };
  const label = trash ? `Deleted ${meta.label_plural.toLowerCase()}` : meta.label_plural;

  const views = (
    <ViewTabs
      resource={resource}
      views={list.views}
      active={list.activeView}
      missing={list.viewMissing}
      config={{ columns: columnPrefs, sort: state.sort, filters }}
      modified={list.modified}
      onChoose={list.chooseView}
      mayShare={meta.actions.includes("share_view")}
    />
  );
  const clear = filters.length > 0 && (
    <button type="button" className="secondary" onClick={() => setFilters([])}>
      Clear filters ({filters.length})
    </button>
  );
  // Created at once, or as a draft to be reviewed first.
  const newDraft = meta.actions.includes("add") && !trash && (
    <>
      <Link className="button primary" to={newRecordPath(resource)}>
        New {meta.label.toLowerCase()}
      </Link>
      <Link className="button secondary" to={`/r/${resource}/drafts/new`}>
        New draft
      </Link>
    </>
  );
  const io = <IoButtons meta={meta} params={params} sort={sort} columns={shown.map((c) => c.field.name)} total={total} trash={trash} />;
  const columnsButton = (
    <button type="button" className="secondary" onClick={() => setChoosing(true)}>
      Columns…
    </button>
  );
  const chart = chartField && (
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
  );

  return (
    <section className="list-page">
      <div className="toolbar">
        <h1>{label}</h1>
        {total !== undefined && (
          <span className="muted" data-testid="total">
            {total === null ? "many records" : `${total} record${total === 1 ? "" : "s"}`}
          </span>
        )}
        <span className="spacer" />
        {meta.searchable && (
          <form role="search" onSubmit={(e) => e.preventDefault()}>
            <DebouncedInput
              type="search"
              aria-label={`Search ${meta.label_plural}`}
              placeholder="Search…"
              value={q}
              onCommit={(text) => change({ q: text })}
            />
          </form>
        )}
      </div>
      {views}
      {phone ? (
        <>
          <div className="toolbar secondary-bar">
            {meta.soft_delete && <TrashSwitch trash={trash} onChange={(deleted) => change({ deleted }, { push: true })} />}
            <button
              type="button"
              className="secondary"
              aria-expanded={filtersOpen}
              aria-controls="list-filters"
              onClick={() => setFiltersOpen((open) => !open)}
            >
              Filters{filters.length > 0 ? ` (${filters.length})` : ""}
            </button>
            <SortSelect fields={shown.map((c) => c.field)} sort={sortKeys} onChange={(next) => change({ sort: next })} />
          </div>
          <div id="list-filters" className="filters-panel" hidden={!filtersOpen}>
            {shown.map((c) => (
              <div key={c.field.name} className="filter-field">
                <span aria-hidden="true">{c.field.label}</span>
                <FilterControl field={c.field} filters={filters} onChange={setFilters} />
              </div>
            ))}
            {chart}
            <div className="toolbar">
              {clear}
              {columnsButton}
              {newDraft}
              {io}
            </div>
          </div>
        </>
      ) : (
        <>
          <div className="toolbar secondary-bar">
            {meta.soft_delete && <TrashSwitch trash={trash} onChange={(deleted) => change({ deleted }, { push: true })} />}
            <span className="spacer" />
            {newDraft}
            {clear}
            {columnsButton}
            {io}
          </div>
          {chart}
        </>
      )}
      {mayBulk && bulkShown && (
        <Suspense fallback={null}>
          <BulkBar meta={meta} selection={selection} total={total} loaded={rows.length} trash={trash} target={bulkTarget} />
        </Suspense>
      )}
      {mayBulk && phone && rows.length > 0 && (
        <label className="check choose-page">
          <PageCheckbox selection={selection} label={`Choose all loaded ${meta.label_plural.toLowerCase()}`} /> Choose all shown
        </label>
      )}
      <div
        className="table-wrap"
        ref={scroller}
        data-testid="list-scroller"
        id="list-scroller"
        onPointerDown={(event) => prefetchRowLink(queryClient, event.target)}
      >
        {phone ? (
          <ListCards
            meta={meta}
            rows={rows}
            shown={shown}
            labels={labels}
            trash={trash}
            highlighted={highlighted}
            present={present}
            selection={mayBulk ? selection : undefined}
          />
        ) : (
          <ListTable
            meta={meta}
            rows={rows}
            shown={shown}
            labels={labels}
            sort={sortKeys}
            onSort={(field, add) => change({ sort: formatSort(clickSort(sortKeys, field, add)) })}
            onColumns={(reorder) => updateColumns((c) => ({ ...c, columns: reorder(c.columns) }))}
            filters={filters}
            onFilters={setFilters}
            trash={trash}
            highlighted={highlighted}
            present={present}
            selection={mayBulk ? selection : undefined}
          />
        )}
        {pages.isLoading && <p role="status">Loading…</p>}
        {pages.error && (
          <ListProblem
            error={pages.error}
            filtered={filters.length > 0 || Boolean(state.sort)}
            // Saved at once as the user's list settings, so the next visit works too.
            onClear={() => change({ filters: [], sort: "" }, { saveNow: true })}
          />
        )}
        {pages.isSuccess && rows.length === 0 && <p className="empty">{emptyText(state, meta, trash)}</p>}
        <div ref={sentinel} className="list-end">
          {hasNextPage && (
            <button type="button" className="secondary" onClick={loadMore} disabled={isFetchingNextPage}>
              {isFetchingNextPage ? "Loading…" : "Load more"}
            </button>
          )}
        </div>
      </div>
      {choosing && (
        <Suspense fallback={<p role="status">Loading…</p>}>
          <ColumnChooser
            fields={fields}
            columns={columnPrefs}
            onChange={(next) => updateColumns((c) => ({ ...c, columns: next }))}
            onReset={() => apply({ columns: fields.map((f) => ({ field: f.name })), sort: "", filters: [] })}
            onClose={() => setChoosing(false)}
          />
        </Suspense>
      )}
    </section>
  );
}

function emptyText(state: ListState, meta: ResourceMeta, trash: boolean): string {
  if (state.filters.length > 0 || state.q) return "Nothing matches these filters.";
  return trash ? `No deleted ${meta.label_plural.toLowerCase()}.` : "There are no records yet.";
}

function TrashSwitch({ trash, onChange }: { trash: boolean; onChange: (deleted: boolean) => void }) {
  return (
    <div className="segmented" role="group" aria-label="Which records">
      <button type="button" aria-pressed={!trash} onClick={() => trash && onChange(false)}>
        Records
      </button>
      <button type="button" aria-pressed={trash} onClick={() => !trash && onChange(true)}>
        Deleted
      </button>
    </div>
  );
}

/** The sort on a phone (no headers to click): one key, either way. Several keys set on a desktop show their first. */
function SortSelect({ fields, sort, onChange }: { fields: FieldMeta[]; sort: SortKey[]; onChange: (sort: string) => void }) {
  const lead = sort[0];
  const value = lead ? formatSort([lead]) : "";
  return (
    <select aria-label="Sort by" className="sort-select" value={value} onChange={(e) => onChange(e.target.value)}>
      {lead && !fields.some((f) => f.name === lead.field) && <option value={value}>{lead.field}</option>}
      {fields.flatMap((f) => [
        <option key={f.name} value={f.name}>
          {f.label} ↑
        </option>,
        <option key={`-${f.name}`} value={`-${f.name}`}>
          {f.label} ↓
        </option>,
      ])}
    </select>
  );
}
