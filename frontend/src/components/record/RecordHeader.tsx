// The top of a record page: its name under its list, its version, whether it
// is deleted, who else is here; and a note when someone else deleted or purged
// it while it was open.
import { Link } from "react-router-dom";
import type { RecordBody, ResourceMeta } from "../../api/models";
import type { PresenceUser } from "../../live";
import { DeletedBy } from "../list/Trash";
import type { Removed } from "./useRecordLive";

export function RecordHeader(props: {
  resource: string;
  pk: string;
  meta: ResourceMeta;
  record: RecordBody;
  name: string | undefined;
  others: PresenceUser[];
  /** Purged (by someone else, or gone when read again): who did it. */
  gone: { by: string } | null;
}) {
  const { resource, pk, meta, record, name, others, gone } = props;
  return (
    <div className="toolbar">
      <h1>
        <Link to={`/r/${resource}`}>{meta.label_plural}</Link> / {name}
      </h1>
      <span className="muted" data-testid="version">
        version {record._version}
      </span>
      {record._deleted_at && !gone && (
        <span className="deleted-note">
          <span className="badge">deleted</span> <DeletedBy resource={resource} pk={pk} at={record._deleted_at} />
        </span>
      )}
      <span className="spacer" />
      {others.length > 0 && (
        <span className="presence" data-testid="presence">
          Also here:{" "}
          {others.map((u) => (
            <span key={`${u.id}-${u.name}`} className="avatar" title={u.state}>
              {u.name}
              {u.state === "editing" ? " (editing)" : ""}
            </span>
          ))}
        </span>
      )}
    </div>
  );
}

/** Someone else purged the record, or deleted it while it was open: said so, with what became of the edits. */
export function RemovedNote(props: {
  meta: ResourceMeta;
  record: RecordBody;
  removed: Removed | null;
  gone: { by: string } | null;
  dirty: boolean;
}) {
  const { meta, record, removed, gone, dirty } = props;
  if (!gone && !(removed?.op === "delete" && record._deleted_at)) return null;
  return (
    <p className="removed-note" role="alert" data-testid="removed-note">
      {gone
        ? `${gone.by} purged this ${meta.label.toLowerCase()}: it no longer exists.`
        : `${removed!.by} deleted this ${meta.label.toLowerCase()} while you had it open.`}
      {dirty &&
        (gone ? " Your unsaved changes are still shown below." : " Your unsaved changes are kept: restore it to save them.")}
    </p>
  );
}
