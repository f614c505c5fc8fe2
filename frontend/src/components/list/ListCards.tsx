import { Link } from "react-router-dom";
import type { RecordBody, ResourceMeta } from "../../api/models";
import type { RowSelection } from "../../hooks/useRowSelection";
import type { PresenceUser } from "../../live";
import { recordKey } from "../../recordKey";
import { cellContent, type RelationLabels, type ShownField } from "./cells";
import { recordName } from "./ListTable";
import { PresenceStack } from "./PresenceStack";
import { DeletedBy, TrashActions } from "./Trash";

/** Fields a card lists under its title: enough to tell records apart, few enough to scan. */
const CARD_FIELDS = 5;

interface Props {
  meta: ResourceMeta;
  rows: RecordBody[];
  shown: ShownField[];
  labels: RelationLabels;
  trash: boolean;
  highlighted: Set<string>;
  present: Map<string, PresenceUser[]>;
  selection?: RowSelection;
}

/**
 * The list on a phone: one card per record, named by its display field (the
 * link to the record), then the first shown columns as label and value, each
 * on one line (the tooltip has the whole value). Same rows, order and live
 * updates as the table.
 */
export function ListCards({ meta, rows, shown, labels, trash, highlighted, present, selection }: Props) {
  const details = shown.filter((c) => c.field.name !== meta.display).slice(0, CARD_FIELDS);
  return (
    <ul className="record-cards" aria-label={meta.label_plural}>
      {rows.map((row, index) => {
        const key = recordKey(meta, row);
        const id = key ?? `row-${index}`;
        const name = key === null ? String(row[meta.display] ?? "") : recordName(meta, row, key);
        return (
          <li key={id} data-pk={id} className={`record-card${highlighted.has(id) ? " flash" : ""}${key !== null && selection?.has(key) ? " chosen" : ""}`}>
            <div className="record-card-head">
              {selection && key !== null && (
                <input
                  type="checkbox"
                  className="row-check"
                  aria-label={`Choose ${name}`}
                  checked={selection.has(key)}
                  onChange={() => selection.toggle(key)}
                />
              )}
              {key === null ? <strong>{name}</strong> : <Link className="row-link" to={`/r/${meta.name}/${encodeURIComponent(key)}`}>{name}</Link>}
              <PresenceStack users={present.get(id) ?? []} />
            </div>
            <dl>
              {details.map((c) => {
                const { node, title } = cellContent(c, row[c.field.name], labels);
                return (
                  <div key={c.field.name}>
                    <dt>{c.field.label}</dt>
                    <dd title={title}>{node}</dd>
                  </div>
                );
              })}
            </dl>
            {trash && key !== null && (
              <div className="record-card-trash">
                <DeletedBy resource={meta.name} pk={key} at={row._deleted_at} />
                <TrashActions meta={meta} row={row} pk={key} name={name} />
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}
