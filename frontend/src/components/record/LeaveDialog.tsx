// Leaving a record with unsaved edits asks first: the fields (and related
// rows) not saved, Leave or Stay. Escape is Stay: the edits are kept.
import { Dialog } from "../Dialog";

export function LeaveDialog(props: { unsaved: string[]; onLeave: () => void; onStay: () => void }) {
  const { unsaved, onLeave, onStay } = props;
  return (
    <Dialog role="alertdialog" labelledBy="leave-title" onClose={onStay}>
      <h2 id="leave-title">Leave without saving?</h2>
      <p>Your changes to {unsaved.join(", ")} are not saved.</p>
      <div className="actions">
        <span className="spacer" />
        <button type="button" className="secondary" onClick={onLeave}>
          Leave without saving
        </button>
        <button type="button" autoFocus onClick={onStay}>
          Stay
        </button>
      </div>
    </Dialog>
  );
}
