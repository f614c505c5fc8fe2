// Under a field being edited: someone else changed it meanwhile. Take theirs
// (the edit goes) or keep mine (the note goes, the edit stays).
import type { FieldMeta, FieldValue } from "../../api/models";
import { display } from "../../format";

export function RemoteChangeNote(props: {
  field: FieldMeta;
  change: { by: string; value: FieldValue };
  onTakeTheirs: () => void;
  onKeepMine: () => void;
}) {
  const { field, change, onTakeTheirs, onKeepMine } = props;
  return (
    <p className="remote" role="status" data-testid={`remote-${field.name}`}>
      {change.by} changed this to “{display(change.value, field)}”.{" "}
      <button type="button" className="link" onClick={onTakeTheirs}>
        Take theirs
      </button>{" "}
      <button type="button" className="link" onClick={onKeepMine}>
        Keep mine
      </button>
    </p>
  );
}
