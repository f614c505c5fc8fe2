// The records of other resources that point at this one, under the record's
// form (ResourceMeta.related, API.md): a one-to-many link as a table of its
// rows (a course's sessions, ChildRows.tsx), a many-to-many link through a
// link table as chips (a course's instructors, LinkChips.tsx). The server
// lists only the links this user may follow; what each panel lets them do
// comes from the linked resource's own OPTIONS.
import { useCallback, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { Meta, RelatedMeta, RecordBody, ResourceMeta } from "../../api/models";
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
  /** Told which panels hold work not saved yet (see useUnsavedPanels). */
  onUnsaved?: (label: string, unsaved: boolean) => void;
}

/** The labels of the panels holding work not saved yet, for the record page's leave guard. */
export function useUnsavedPanels(): [string[], (label: string, unsaved: boolean) => void] {
  const [labels, setLabels] = useState<string[]>([]);
  const mark = useCallback(
    (label: string, unsaved: boolean) =>
      setLabels((current) =>
        unsaved ? (current.includes(label) ? current : [...current, label]) : current.filter((l) => l !== label),
      ),
    [],
  );
  return [labels, mark];
}

/**
 * The links shown. A link table stays a one-to-many link of both its ends
 * too (the server lists it, as its rows may carry data of their own); when
 * its rows hold nothing but the two keys, the chips of the many-to-many link
 * say all of it, and its table is left out.
 */
export function shownLinks(related: RelatedMeta[], meta: Meta | undefined): RelatedMeta[] {
  return related.filter((link) => {
    if (link.through) return true;
    const through = related.find((t) => t.through?.resource === link.resource && t.field === link.field);
    if (!through?.through) return true;
    const table = meta?.resources.find((r) => r.name === link.resource);
    if (!table) return false; // until /api/meta is read, rather than flash a table that then goes
    const own = new Set([...keyColumns(table), link.field, through.through.field]);
    return table.fields.some((f) => !own.has(f.name));
  });
}

export function RelatedRecords({ meta, record, hidden = false, onUnsaved }: Props) {
  const all = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const columns = keyColumns(meta);
  // Links follow single-column keys only (the server offers no other).
  if (columns.length !== 1 || meta.related.length === 0) return null;
  const parent: Parent = { resource: meta.name, label: meta.label, key: record[columns[0]], keyText: keyText(record[columns[0]]) };
  // A deleted record's links are shown, not changed: restore the record first.
  const frozen = record._deleted_at !== null;
  return (
    <div className="related" data-testid="related" hidden={hidden}>
      {shownLinks(meta.related, all.data).map((link) =>
        link.through ? (
          <LinkChips key={`${link.resource}/${link.through.resource}/${link.field}`} link={{ ...link, through: link.through }} parent={parent} frozen={frozen} />
        ) : (
          <ChildRows key={`${link.resource}/${link.field}`} link={link} parent={parent} frozen={frozen} onUnsaved={onUnsaved} />
        ),
      )}
    </div>
  );
}
