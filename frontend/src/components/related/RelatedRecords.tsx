// The records of other resources that point at this one, under the record's
// form (ResourceMeta.related, API.md): a one-to-many link as a table of its
// rows (a course's sessions, ChildRows.tsx), a many-to-many link through a
// link table as chips (a course's instructors, LinkChips.tsx). The server
// lists only the links this user may follow; what each panel lets them do
// comes from the linked resource's own OPTIONS.
import type { RecordBody, ResourceMeta } from "../../api/types";
import { keyColumns } from "../../recordKey";
import { keyText } from "../../relations";
import { ChildRows } from "./ChildRows";
import { LinkChips } from "./LinkChips";
import type { Parent } from "./useRelatedRows";

interface Props {
  /** The record's meta (its OPTIONS), with `related`. */
  meta: ResourceMeta;
  record: RecordBody;
  /** Out of sight (another tab of the page), still mounted: edits in the panels stay. */
  hidden?: boolean;
}

export function RelatedRecords({ meta, record, hidden = false }: Props) {
  const columns = keyColumns(meta);
  // Links follow single-column keys only (the server offers no other).
  if (columns.length !== 1 || meta.related.length === 0) return null;
  const parent: Parent = { resource: meta.name, label: meta.label, key: record[columns[0]], keyText: keyText(record[columns[0]]) };
  // A deleted record's links are shown, not changed: restore the record first.
  const frozen = record._deleted_at !== null;
  return (
    <div className="related" data-testid="related" hidden={hidden}>
      {meta.related.map((link) =>
        link.through ? (
          <LinkChips key={`${link.resource}/${link.through.resource}/${link.field}`} link={{ ...link, through: link.through }} parent={parent} frozen={frozen} />
        ) : (
          <ChildRows key={`${link.resource}/${link.field}`} link={link} parent={parent} frozen={frozen} />
        ),
      )}
    </div>
  );
}
