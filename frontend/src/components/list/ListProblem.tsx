// A list the server refuses to run (a 400: a saved filter or sort on an
// operator or field it no longer accepts). The settings are the user's saved
// preference, so the list would fail the same way on every visit: the error
// is shown with a way out that clears the filters and sort, and saves that.
import { ProblemError } from "../../api/client";
import { reasonOf } from "../FormProblems";

interface Props {
  error: Error;
  /** Whether filters or a sort are applied (what clearing would remove). */
  filtered: boolean;
  onClear: () => void;
}

export function ListProblem({ error, filtered, onClear }: Props) {
  const refused = error instanceof ProblemError && error.status >= 400 && error.status < 500;
  return (
    <div className="error list-problem" role="alert" data-testid="list-problem">
      <p>The list could not be shown: {reasonOf(error)}</p>
      {refused && filtered && (
        <p>
          Your saved filters or sort may no longer apply.{" "}
          <button type="button" onClick={onClear}>
            Clear filters and sort
          </button>
        </p>
      )}
    </div>
  );
}
