// The import wizard's parts (pages/ImportPage.tsx): its steps, a step's
// failure, how to fix what the preview found, what the mapping leaves out,
// and the last step's answer.
import { Link } from "react-router-dom";
import { ProblemError } from "../../api/client";
import type { ApiProblem, ImportResult, ResourceMeta } from "../../api/models";
import { FileDrop } from "./FileDrop";
import { Summary } from "./PreviewTable";
import type { LoadedFile } from "./importFile";
import type { Mapping } from "./mapping";

export type Step = "upload" | "map" | "preview" | "done";
const STEPS: { step: Step; label: string }[] = [
  { step: "upload", label: "1. File" },
  { step: "map", label: "2. Columns" },
  { step: "preview", label: "3. Preview" },
  { step: "done", label: "4. Import" },
];

/** The steps, the current one marked; a step already reached is a link back to it (but "done"). */
export function WizardSteps(props: {
  step: Step;
  reachable: (step: Step) => boolean;
  onStep: (step: Step) => void;
  disabled: boolean;
}) {
  const { step, reachable, onStep, disabled } = props;
  return (
    <ol className="import-steps" aria-label="Steps">
      {STEPS.map((s) => (
        <li
          key={s.step}
          aria-current={s.step === step ? "step" : undefined}
          className={STEPS.findIndex((x) => x.step === s.step) < STEPS.findIndex((x) => x.step === step) ? "done" : undefined}
        >
          {reachable(s.step) && s.step !== step && s.step !== "done" && !disabled ? (
            <button type="button" className="link" onClick={() => onStep(s.step)}>
              {s.label}
            </button>
          ) : (
            s.label
          )}
        </li>
      ))}
    </ol>
  );
}

/** A step's failure: the server's problem (or what went wrong here), shown where it happened. */
export interface Failure {
  title: string;
  problem: ApiProblem | null;
  detail: string;
}

export function failureOf(title: string, error: unknown): Failure {
  if (error instanceof ProblemError) return { title, problem: error.problem, detail: error.problem.detail || error.problem.title };
  return { title, problem: null, detail: error instanceof Error ? error.message : String(error) };
}

export function FailureBox({ failure }: { failure: Failure }) {
  const errors = failure.problem?.errors ?? [];
  return (
    <div className="problem" role="alert">
      <h2>{failure.title}</h2>
      <p>{failure.detail}</p>
      {errors.length > 0 && (
        <ul>
          {errors.slice(0, 20).map((e, i) => (
            <li key={i}>
              {e.field ? `${e.field}: ` : ""}
              {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** How to fix what the preview found: a corrected file (the mapping kept), or a new preview after a conflict. */
export function FixBox(props: {
  file: LoadedFile;
  invalid: boolean;
  conflict: boolean;
  busy: boolean;
  onFile: (file: File) => void;
  onPreviewAgain: () => void;
}) {
  if (props.conflict) {
    return (
      <div className="wizard-actions">
        <p>Someone changed these records after your preview. Preview again to see the lines with their current values.</p>
        <button type="button" onClick={props.onPreviewAgain} disabled={props.busy}>
          Preview again
        </button>
      </div>
    );
  }
  if (!props.invalid) return null;
  return (
    <FileDrop
      compact
      onFile={props.onFile}
      label="Upload the corrected file"
      hint={`Fix the lines above in ${props.file.name} and upload it again: the columns stay mapped as they are.`}
      disabled={props.busy}
    />
  );
}

/** What the mapping leaves out that matters: the key (every line then new), required fields (new lines then fail). */
export function MappingNotes({ meta, mapping, pk }: { meta: ResourceMeta; mapping: Mapping; pk: string[] }) {
  const mapped = new Set(Object.values(mapping).filter(Boolean));
  const noKey = pk.filter((name) => !mapped.has(name));
  const missing = meta.fields.filter((f) => f.required && !f.read_only && !mapped.has(f.name));
  const label = (name: string) => meta.fields.find((f) => f.name === name)?.label ?? name;
  if (noKey.length === 0 && missing.length === 0) return null;
  return (
    <ul className="muted mapping-notes">
      {noKey.length > 0 && <li>No column fills {noKey.map(label).join(" + ")}: every line will be a new record.</li>}
      {missing.length > 0 && (
        <li>
          New records need {missing.map((f) => f.label).join(", ")}: no column fills {missing.length === 1 ? "it" : "them"}.
        </li>
      )}
    </ul>
  );
}

/** The last step: what was imported (or staged as drafts), and where to go from there. */
export function ImportDone(props: { resource: string; meta: ResourceMeta; done: ImportResult; onAnother: () => void }) {
  const { resource, meta, done, onAnother } = props;
  return (
    <div className="done" role="status">
      <h2>{done.batch != null ? "Staged as drafts for review" : "Imported"}</h2>
      <Summary result={done} />
      {done.batch != null && (
        <p>Nothing is written until a reviewer publishes the batch; each draft can be read, commented on or rejected first.</p>
      )}
      <p className="wizard-actions">
        <Link className="button primary" to={`/r/${encodeURIComponent(resource)}`}>
          Open the {meta.label_plural.toLowerCase()} list
        </Link>
        {done.batch != null && (
          <Link className="button secondary" to={`/drafts?batch=${done.batch}`}>
            Review the drafts
          </Link>
        )}
        <button type="button" className="secondary" onClick={onAnother}>
          Import another file
        </button>
      </p>
    </div>
  );
}
