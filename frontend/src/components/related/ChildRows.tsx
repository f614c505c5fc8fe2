// A one-to-many link on the record page (a course's sessions): the rows that
// point at the record, as a table that follows other people's changes and
// shows who is on each row. Rows are edited in place (the row opens into a
// form), added with the pointing field set to this record, and deleted with
// an Undo. Every save is a PATCH with `X-Base-Version`, as on the record page.
//
// The edits of each row live here, keyed by the row's key (rowEdits.ts), not
// in the rows the server sent: a live frame, a refetch, a failed save or the
// row's deletion by someone else never takes them away.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Link } from "react-router-dom";
import { useQuery } from "@tanstack/react-query";
import { api, ProblemError } from "../../api/client";
import type { Change, FieldValue, RecordBody, RelatedMeta, ResourceMeta } from "../../api/models";
import { useListPresence } from "../../hooks/useListPresence";
import { useRelationLabels, useRelationTargets } from "../../hooks/useRelations";
import { keyColumns } from "../../recordKey";
import { useToast } from "../../toasts";
import { reasonOf } from "../FormProblems";
import { cellContent } from "../list/cells";
import { PresenceStack } from "../list/PresenceStack";
import { NewChildRow } from "./NewChildRow";
import { RowEditor } from "./RowEditor";
import { heardChange, startEdit, type RowEdit } from "./rowEdits";
import { useRelatedRows, type Parent } from "./useRelatedRows";

/** Columns a row shows besides its name; the rest are on the row's own page and in its edit form. */
const SHOWN_FIELDS = 6;

interface Props {
  link: RelatedMeta;
  parent: Parent;
  /** Nothing may be added, changed or deleted here (the parent record is deleted). */
  frozen: boolean;
  /** Told while the panel holds typed values not saved yet, so that leaving the page asks first. */
  onUnsaved?: (label: string, unsaved: boolean) => void;
}

export function ChildRows({ link, parent, frozen, onUnsaved }: Props) {
  const meta = useQuery({ queryKey: ["describe", link.resource], queryFn: () => api.describe(link.resource) });
  if (meta.error) {
    return (
      <Panel link={link}>
        <p className="error">{meta.error.message}</p>
      </Panel>
    );
  }
  if (!meta.data) {
    return (
      <Panel link={link}>
        <p role="status">Loading…</p>
      </Panel>
    );
  }
  return <ChildTable link={link} parent={parent} frozen={frozen} onUnsaved={onUnsaved} meta={meta.data} />;
}

function Panel({ link, count, tools, children }: { link: RelatedMeta; count?: string; tools?: ReactNode; children: ReactNode }) {
  const id = `related-${link.resource}-${link.field}`;
  return (
    <section className="panel related-panel child-rows" aria-labelledby={`${id}-title`} data-testid={`related-${link.resource}`}>
      <div className="panel-head">
        <h2 id={`${id}-title`}>
          {link.label}
          {count && <span className="muted"> ({count})</span>}
        </h2>
        <span className="spacer" />
        {tools}
      </div>
      {children}
    </section>
  );
}

/** The row's name: its display field, else its key as "#12". */
export function rowName(meta: ResourceMeta, row: RecordBody, key: string): string {
  const named = meta.display === keyColumns(meta)[0] ? null : row[meta.display];
  return named === null || named === undefined || named === "" ? `#${key}` : String(named);
}

function ChildTable({ link, parent, frozen, onUnsaved, meta }: Props & { meta: ResourceMeta }) {
  const toast = useToast();
  const resource = link.resource;
  const [editing, setEditing] = useState<Record<string, RowEdit>>({});
  // The new row's values while its form is open (null: closed).
  const [adding, setAdding] = useState<Record<string, FieldValue> | null>(null);

  // The live handler reads which rows are being edited through a ref, not a stale closure.
  const editingRef = useRef(editing);
  useLayoutEffect(() => {
    editingRef.current = editing;
  });
  // A change heard live for a row being edited: read the row again (its body, not the
  // log's diff, is what the form compares with), then fold it into that row's edit.
  const onChange = useCallback(
    (change: Change) => {
      if (!(change.pk in editingRef.current)) return;
      const fold = (fresh: RecordBody | null) =>
        setEditing((now) => (change.pk in now ? { ...now, [change.pk]: heardChange(now[change.pk], change, fresh) } : now));
      if (change.op === "delete" || change.op === "purge") return fold(null);
      api.get(resource, change.pk).then(fold, () => undefined); // gone or out of reach: its delete or purge frame says so
    },
    [resource],
  );
  const related = useRelatedRows(resource, link.field, parent, meta, onChange);
  const present = useListPresence(resource);

  const key = keyColumns(meta)[0];
  const columns = useMemo(
    () => meta.fields.filter((f) => f.name !== link.field && f.name !== key).slice(0, SHOWN_FIELDS),
    [meta.fields, link.field, key],
  );
  const targets = useRelationTargets(columns);
  const labels = useRelationLabels(targets, related.rows);

  // A row being edited stays on screen even once it has gone from the rows (deleted under the edit).
  const shown = useMemo(() => {
    const out = related.rows.map((row, index) => ({ key: related.keys[index], row }));
    for (const [k, edit] of Object.entries(editing)) {
      if (!related.keys.includes(k)) out.push({ key: k, row: edit.latest });
    }
    return out;
  }, [related.rows, related.keys, editing]);

  const dirty = Object.values(editing).some((e) => Object.keys(e.edits).length > 0) || Object.keys(adding ?? {}).length > 0;
  // Closing or reloading the tab asks (the browser's question); leaving by a link asks the record page's.
  useEffect(() => {
    if (!dirty) return;
    const guard = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", guard);
    onUnsaved?.(link.label, true);
    return () => {
      window.removeEventListener("beforeunload", guard);
      onUnsaved?.(link.label, false);
    };
  }, [dirty, onUnsaved, link.label]);

  // Rows of a resource without a key (a view) can be listed, not addressed: no link, no edit, no delete.
  const addressable = key !== undefined;
  const mayAdd = !frozen && meta.actions.includes("add");
  const mayChange = !frozen && addressable && meta.actions.includes("change");
  const mayDelete = !frozen && addressable && meta.soft_delete && meta.actions.includes("delete");
  const label = meta.label.toLowerCase();

  const update = (k: string, change: (edit: RowEdit) => RowEdit) =>
    setEditing((current) => (k in current ? { ...current, [k]: change(current[k]) } : current));
  const stop = (k: string) => setEditing(({ [k]: _, ...rest }) => rest);

  async function remove(k: string, row: RecordBody) {
    try {
      const deleted = await api.remove(resource, k, row._version);
      related.refresh();
      toast(`Deleted ${label} ${rowName(meta, row, k)}.`, {
        action: {
          label: "Undo",
          run: () =>
            void api.restore(resource, k, deleted._version).then(
              () => {
                related.refresh();
                related.mark(k);
              },
              (e: unknown) => toast(`Could not restore it: ${reasonOf(e)}`, { tone: "error" }),
            ),
        },
      });
    } catch (e) {
      const changed = e instanceof ProblemError && e.status === 412;
      toast(changed ? `The ${label} changed since it was shown; look at it again before deleting it.` : `Not deleted: ${reasonOf(e)}`, {
        tone: "error",
      });
      related.refresh();
    }
  }

  const total = related.total;
  const count = total === undefined ? undefined : total === null ? "many" : String(total);
  const width = columns.length + 2;
  return (
    <Panel
      link={link}
      count={count}
      tools={
        mayAdd &&
        !adding && (
          <button type="button" className="secondary small" onClick={() => setAdding({})}>
            Add {label}
          </button>
        )
      }
    >
      {related.error && <p className="error">{related.error.message}</p>}
      {related.loading && <p role="status">Loading…</p>}
      {!related.loading && shown.length === 0 && !adding && (
        <p className="empty">
          No {meta.label_plural.toLowerCase()} of this {parent.label.toLowerCase()} yet.
        </p>
      )}
      {shown.length > 0 && (
        <div className="table-wrap">
          <table className="grid compact child-table">
            <thead>
              <tr>
                <th scope="col">{meta.label}</th>
                {columns.map((f) => (
                  <th key={f.name} scope="col">
                    {f.label}
                  </th>
                ))}
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map(({ key: k, row }) => {
                const name = rowName(meta, row, k);
                const others = present.get(k) ?? [];
                const edit = editing[k];
                if (edit) {
                  return (
                    <tr key={k} data-pk={k} className={`editing${related.highlighted.has(k) ? " flash" : ""}`}>
                      <td colSpan={width}>
                        <RowEditor
                          meta={meta}
                          rowKey={k}
                          name={name}
                          hidden={[link.field]}
                          edit={edit}
                          others={others}
                          mayRestore={meta.actions.includes("restore")}
                          onUpdate={(change) => update(k, change)}
                          onDone={(saved) => {
                            stop(k);
                            related.refresh();
                            if (saved) related.mark(k);
                          }}
                        />
                      </td>
                    </tr>
                  );
                }
                return (
                  <tr key={k} data-pk={k} className={related.highlighted.has(k) ? "flash" : undefined}>
                    <th scope="row">
                      {addressable ? <Link to={`/r/${resource}/${encodeURIComponent(k)}`}>{name}</Link> : name}
                      <PresenceStack users={others} />
                    </th>
                    {columns.map((f) => {
                      const { node, title } = cellContent({ pref: { field: f.name }, field: f }, row[f.name], labels);
                      return (
                        <td key={f.name} data-label={f.label} title={title}>
                          {node}
                        </td>
                      );
                    })}
                    <td className="row-actions-cell">
                      <span className="row-actions">
                        {mayChange && (
                          <button type="button" className="secondary small" aria-label={`Edit ${label} ${name}`} onClick={() => setEditing((c) => ({ ...c, [k]: startEdit(row) }))}>
                            Edit
                          </button>
                        )}
                        {mayDelete && (
                          <button type="button" className="secondary small danger-text" aria-label={`Delete ${label} ${name}`} onClick={() => void remove(k, row)}>
                            Delete
                          </button>
                        )}
                      </span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {related.hasMore && (
        <button type="button" className="secondary small" onClick={related.loadMore} disabled={related.loadingMore}>
          {related.loadingMore ? "Loading…" : `More ${meta.label_plural.toLowerCase()}`}
        </button>
      )}
      {adding && (
        <NewChildRow
          meta={meta}
          link={link}
          parent={parent}
          values={adding}
          onValues={(change) => setAdding((current) => (current === null ? current : change(current)))}
          onCancel={() => setAdding(null)}
          onAdded={(k) => {
            setAdding(null);
            related.refresh();
            if (k !== null) related.mark(k);
          }}
        />
      )}
    </Panel>
  );
}
