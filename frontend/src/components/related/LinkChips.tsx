// A many-to-many link on the record page (a course's instructors through
// course_instructors): the far records as chips, each a link to its record
// with a remove button, and a picker to add one. Adding writes a row of the
// link table (`POST`, both keys set), removing soft-deletes that row with an
// Undo; the link rows follow other people's changes live (useRelatedRows).
// Names are read by key (hooks/useRelations.ts), whatever the far table's size.
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../../api/client";
import type { FieldValue, RecordBody, RelatedMeta, ResourceMeta } from "../../api/models";
import { useRelationLabels, useRelationTargets } from "../../hooks/useRelations";
import { keyText, optionQueryKey, shownLabel, type RelationOption } from "../../relations";
import { useToast } from "../../toasts";
import { reasonOf } from "../FormProblems";
import { RelationPicker } from "../RelationPicker";
import { useRelatedRows, type Parent } from "./useRelatedRows";

interface Props {
  link: RelatedMeta & { through: NonNullable<RelatedMeta["through"]> };
  parent: Parent;
  frozen: boolean;
}

export function LinkChips({ link, parent, frozen }: Props) {
  const through = link.through;
  const linkMeta = useQuery({ queryKey: ["describe", through.resource], queryFn: () => api.describe(through.resource) });
  const id = `related-${link.resource}-${through.resource}`;
  return (
    <section className="panel related-panel link-chips" aria-labelledby={`${id}-title`} data-testid={`related-${link.resource}`}>
      <div className="panel-head">
        <h2 id={`${id}-title`}>{link.label}</h2>
      </div>
      {linkMeta.error && <p className="error">{linkMeta.error.message}</p>}
      {!linkMeta.data && !linkMeta.error && <p role="status">Loading…</p>}
      {linkMeta.data && <Chips link={link} parent={parent} frozen={frozen} linkMeta={linkMeta.data} />}
    </section>
  );
}

function Chips({ link, parent, frozen, linkMeta }: Props & { linkMeta: ResourceMeta }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const through = link.through;
  const meta = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const farLabel = meta.data?.resources.find((r) => r.name === link.resource)?.label.toLowerCase() ?? "record";
  const related = useRelatedRows(through.resource, link.field, parent, linkMeta);
  const farField = useMemo(() => linkMeta.fields.find((f) => f.name === through.field), [linkMeta.fields, through.field]);
  const pickable = useMemo(() => (farField ? [farField] : []), [farField]);
  const targets = useRelationTargets(pickable);
  const labels = useRelationLabels(targets, related.rows);
  const [adding, setAdding] = useState(false);
  const [said, setSaid] = useState<{ text: string; problem: boolean } | null>(null);

  const mayAdd = !frozen && linkMeta.actions.includes("add");
  const mayRemove = !frozen && linkMeta.soft_delete && linkMeta.actions.includes("delete");
  const target = targets.get(through.field);
  // A linked record's name: read for the chips shown, or known from the picker it was just chosen in.
  const nameOf = (value: FieldValue | undefined): string => {
    const id = keyText(value);
    const option = labels.get(through.field)?.get(id) ?? (target ? queryClient.getQueryData<RelationOption | null>(optionQueryKey(target, id)) : null);
    return option ? shownLabel(option) : `#${id}`;
  };

  async function add(value: FieldValue) {
    if (value === null) return;
    const name = nameOf(value);
    if (related.rows.some((row) => keyText(row[through.field]) === keyText(value))) {
      return setSaid({ text: `${name} is already one of the ${link.label.toLowerCase()}.`, problem: true });
    }
    setAdding(true);
    setSaid(null);
    try {
      await api.create(through.resource, { [link.field]: parent.key, [through.field]: value });
      related.refresh();
      setSaid({ text: `Added ${name}.`, problem: false });
    } catch (e) {
      // Someone linked the same record a moment before (a unique link): say so in words.
      const twice = e instanceof ProblemError && e.status === 409;
      setSaid({ text: twice ? `${name} is already one of the ${link.label.toLowerCase()}.` : `Not added: ${reasonOf(e)}`, problem: true });
      related.refresh();
    } finally {
      setAdding(false);
    }
  }

  async function remove(k: string, row: RecordBody) {
    const name = nameOf(row[through.field]);
    setSaid(null);
    try {
      const removed = await api.remove(through.resource, k, row._version);
      related.refresh();
      toast(`Removed ${name} from this ${parent.label.toLowerCase()}.`, {
        action: {
          label: "Undo",
          run: () =>
            void api.restore(through.resource, k, removed._version).then(
              () => related.refresh(),
              (e: unknown) => toast(`Could not put ${name} back: ${reasonOf(e)}`, { tone: "error" }),
            ),
        },
      });
    } catch (e) {
      setSaid({ text: `${name} was not removed: ${reasonOf(e)}`, problem: true });
      related.refresh();
    }
  }

  return (
    <>
      {related.error && <p className="error">{related.error.message}</p>}
      {related.loading ? (
        <p role="status">Loading…</p>
      ) : related.rows.length === 0 ? (
        <p className="empty">None yet.</p>
      ) : (
        <ul className="chips link-list" aria-label={link.label}>
          {related.rows.map((row, index) => {
            const k = related.keys[index];
            const far = keyText(row[through.field]);
            const name = nameOf(row[through.field]);
            return (
              <li key={k} className={`chip${related.highlighted.has(k) ? " flash" : ""}`} data-pk={far}>
                <Link to={`/r/${link.resource}/${encodeURIComponent(far)}`}>{name}</Link>
                {mayRemove && (
                  <button type="button" className="link" aria-label={`Remove ${name}`} title={`Remove ${name}`} onClick={() => void remove(k, row)}>
                    ×
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {related.hasMore && (
        <button type="button" className="secondary small" onClick={related.loadMore} disabled={related.loadingMore}>
          {related.loadingMore ? "Loading…" : "More"}
        </button>
      )}
      {mayAdd && farField && (
        <div className="link-add">
          <RelationPicker
            field={farField}
            value={null}
            onChange={(v) => void add(v)}
            ariaLabel={`Add ${farLabel}`}
            placeholder={adding ? "Adding…" : `Add ${farLabel}: type a name…`}
            clearable={false}
            common={{ disabled: adding }}
          />
        </div>
      )}
      <p className={said?.problem ? "error" : "muted"} role="status">
        {said?.text}
      </p>
    </>
  );
}
