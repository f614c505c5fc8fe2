// The edit of one child row, as a value: what the person typed, the version
// it is sent against, and what happened to the row meanwhile. Kept by the
// panel per row key (ChildRows.tsx), so neither a live frame nor a refetch of
// the rows nor a failed save touches the typed values: only the person does.
//
// `base` is the copy of the row the edits are sent against (`X-Base-Version`,
// a field merge): the server refuses the save if a field being saved changed
// after it. `latest` is the newest copy known. A live change to a field the
// person is not editing moves `base` forward (that change is merged, not
// overwritten). A change to a field they are editing is shown by that field
// ("Editor changed this to …") and holds `base` back until they choose: *Keep
// mine* (they have seen it: `base` moves on, their value will replace it) or
// *Take theirs* (their edit of that field goes). Saving before choosing sends
// the old `base`, so the server answers 409 with the conflicts and the
// three-way dialog opens: nothing another person saved is overwritten unseen.
import type { Change, Conflict, FieldMeta, FieldValue, RecordBody } from "../../api/models";
import { sameValue } from "../../datetime";
import type { FieldProblem } from "../FormProblems";

export type Edits = Record<string, FieldValue>;

export interface RemoteChange {
  by: string;
  value: FieldValue;
}

/** The row went while it was being edited: soft-deleted (it can be restored) or purged. */
export interface Gone {
  how: "deleted" | "purged";
  by: string;
  /** The row's version once deleted (a restore's If-Match). */
  version: number;
}

export interface RowEdit {
  base: RecordBody;
  latest: RecordBody;
  edits: Edits;
  remote: Record<string, RemoteChange>;
  errors: FieldProblem[];
  failure: string | null;
  conflicts: Conflict[] | null;
  gone: Gone | null;
  saving: boolean;
}

export function startEdit(row: RecordBody): RowEdit {
  return { base: row, latest: row, edits: {}, remote: {}, errors: [], failure: null, conflicts: null, gone: null, saving: false };
}

/** A value typed into a field: an edit, or none when it is the row's value again. */
export function editField(edit: RowEdit, field: Pick<FieldMeta, "name" | "type">, value: FieldValue): RowEdit {
  const edits = { ...edit.edits };
  if (sameValue(value, edit.latest[field.name], field.type)) delete edits[field.name];
  else edits[field.name] = value;
  // A message about the old value goes; one about the new shows as it is typed (FieldInput).
  const errors = edit.errors.some((e) => e.field === field.name) ? edit.errors.filter((e) => e.field !== field.name) : edit.errors;
  return { ...edit, edits, errors };
}

/** Who made a change, as a person reads it. */
export function actorName(change: Change): string {
  return change.actor?.name ?? (change.source === "db" ? "The database" : "Someone");
}

/**
 * A change of the row heard live. `fresh` is the row read after it (null for
 * a delete or a purge, which need no read). Old news (our own save, a frame
 * for a version already known) changes nothing.
 */
export function heardChange(edit: RowEdit, change: Change, fresh: RecordBody | null): RowEdit {
  if (change.version <= edit.latest._version && change.op !== "purge") return edit;
  const by = actorName(change);
  if (change.op === "delete") {
    return { ...edit, gone: { how: "deleted", by, version: change.version }, latest: { ...edit.latest, _version: change.version, _deleted_at: change.at } };
  }
  if (change.op === "purge") return { ...edit, gone: { how: "purged", by, version: change.version } };
  if (!fresh || fresh._version < change.version) return edit;
  const remote = { ...edit.remote };
  const text = (value: FieldValue | undefined) => JSON.stringify(value ?? null);
  // Compared with the copy known until now, not read from this frame's diff: the row read
  // may already hold a later change too (its own frame then reads as old news).
  for (const name of Object.keys(edit.edits)) {
    if (text(fresh[name]) === text(edit.latest[name])) continue;
    // The same value as mine is agreement, not a clash (the server takes it so too).
    if (text(fresh[name]) === text(edit.edits[name])) delete remote[name];
    else remote[name] = { by, value: fresh[name] ?? null };
  }
  const seen = Object.keys(remote).length === 0;
  return { ...edit, remote, latest: fresh, base: seen ? fresh : edit.base, gone: change.op === "restore" ? null : edit.gone };
}

function settled(edit: RowEdit, remote: Record<string, RemoteChange>, edits: Edits): RowEdit {
  return { ...edit, remote, edits, base: Object.keys(remote).length === 0 ? edit.latest : edit.base };
}

/** "Keep mine": the other change has been seen; the edit will replace it. */
export function keepMine(edit: RowEdit, name: string): RowEdit {
  const { [name]: _, ...remote } = edit.remote;
  return settled(edit, remote, edit.edits);
}

/** "Take theirs": the edit of that field goes. */
export function takeTheirs(edit: RowEdit, name: string): RowEdit {
  const { [name]: _, ...remote } = edit.remote;
  const { [name]: __, ...edits } = edit.edits;
  return settled(edit, remote, edits);
}

/** The three-way choice made after a 409: the fields kept as mine stay, against the row as it is now. */
export function resolved(edit: RowEdit, current: RecordBody, theirs: string[]): RowEdit {
  const edits = Object.fromEntries(Object.entries(edit.edits).filter(([name]) => !theirs.includes(name)));
  return { ...edit, edits, base: current, latest: current, remote: {}, conflicts: null };
}
