// The import wizard at /r/{resource}/import: 1. a file (CSV or XLSX), 2. its
// columns mapped to fields, 3. a dry run's preview, fixed by uploading a
// corrected file (the mapping kept), 4. applied at once, all or nothing, or
// staged as a batch of drafts for a reviewer to publish. Every choice is
// React state on this page: a failed step says why and keeps the file, the
// mapping and the key. Its parts are in components/io/.
import { useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ImportRefused, ProblemError } from "../api/client";
import type { ImportResult, ResourceMeta } from "../api/models";
import { FileDrop } from "../components/io/FileDrop";
import { MappingTable } from "../components/io/MappingTable";
import { PreviewTable, Summary } from "../components/io/PreviewTable";
import {
  formatBytes,
  kindOf,
  loadFile,
  previewColumns,
  readBytes,
  requestBody,
  type LoadedFile,
} from "../components/io/importFile";
import { carryMapping, duplicateTargets, importableFields, keyChoices, pkFields, type Mapping } from "../components/io/mapping";
import {
  FailureBox,
  failureOf,
  FixBox,
  ImportDone,
  MappingNotes,
  WizardSteps,
  type Failure,
  type Step,
} from "../components/io/WizardParts";
import "../components/io/io.css";
import { usePageTitle } from "../pageTitle";

export function ImportPage() {
  const { resource = "" } = useParams();
  const meta = useQuery({ queryKey: ["describe", resource], queryFn: () => api.describe(resource) });
  if (meta.error) return <p className="error">{meta.error.message}</p>;
  if (!meta.data) return <p role="status">Loading…</p>;
  const { actions, label_plural } = meta.data;
  if (!actions.includes("add") && !actions.includes("change")) {
    return <p className="empty">You may not add or change {label_plural.toLowerCase()}, so there is nothing to import.</p>;
  }
  return <ImportWizard key={resource} meta={meta.data} />;
}

export function ImportWizard({ meta }: { meta: ResourceMeta }) {
  const resource = meta.name;
  usePageTitle(`Import ${meta.label_plural.toLowerCase()}`);
  const queryClient = useQueryClient();
  const fields = useMemo(() => importableFields(meta), [meta]);
  const pk = pkFields(meta);
  const keys = useMemo(() => keyChoices(meta), [meta]);
  // The server's cap on a file (GET /api/meta), said before choosing one and checked before sending it.
  const site = useQuery({ queryKey: ["meta"], queryFn: api.meta });
  const cap = site.data?.import_max_bytes;

  const [step, setStep] = useState<Step>("upload");
  const [file, setFile] = useState<LoadedFile | null>(null);
  const [mapping, setMapping] = useState<Mapping>({});
  const [keyField, setKeyField] = useState(keys[0]?.value ?? "");
  const [busy, setBusy] = useState<null | "reading" | "previewing" | "applying">(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  /** The dry run's answer, with the id the apply follows. */
  const [preview, setPreview] = useState<ImportResult | null>(null);
  /** An apply refused as a whole (invalid lines, or lines changed since the preview). */
  const [refused, setRefused] = useState<ImportResult | null>(null);
  /** The apply met records changed since the preview (or another file): a new preview is the way on. */
  const [stale, setStale] = useState(false);
  const [done, setDone] = useState<ImportResult | null>(null);
  const keyQuery = keyField ? { key: keyField } : {};

  const twice = duplicateTargets(mapping);

  async function dryRun(next: LoadedFile, nextMapping: Mapping) {
    setBusy("previewing");
    setFailure(null);
    setRefused(null);
    setStale(false);
    try {
      const { body, contentType } = requestBody(next, nextMapping);
      const result = await api.importFile(resource, body, contentType, { ...keyQuery, dry_run: true });
      setPreview(result);
      setStep("preview");
    } catch (error) {
      // A preview refused as a whole with its lines (the file's errors) still shows them.
      if (error instanceof ImportRefused) {
        setPreview(error.result);
        setStep("preview");
      }
      setFailure(failureOf("The preview did not run", error));
    } finally {
      setBusy(null);
    }
  }

  /** A file chosen: read here (a CSV), then mapped; a corrected file keeps the mapping and is previewed again. */
  async function choose(chosen: File) {
    setFailure(null);
    const kind = kindOf(chosen);
    if (cap !== undefined && chosen.size > cap) {
      setFailure({
        title: `${chosen.name} is too large`,
        problem: null,
        detail: `It is ${formatBytes(chosen.size)}; an import takes files up to ${formatBytes(cap)}. Split it into smaller files.`,
      });
      return;
    }
    setBusy("reading");
    let loaded: LoadedFile | null;
    try {
      const bytes = await readBytes(chosen);
      loaded = kind === "other" ? null : await loadFile(chosen.name, kind, bytes);
      if (!loaded) {
        // Not a CSV or workbook, not UTF-8, or a workbook not read here: the server says what it takes.
        await api.importFile(resource, new Blob([bytes]), chosen.type || "application/octet-stream", { ...keyQuery, dry_run: true });
        setFailure({ title: "The file was not read", problem: null, detail: "Choose a CSV (UTF-8) or an Excel workbook (.xlsx)." });
        return;
      }
    } catch (error) {
      setFailure(failureOf(`${chosen.name} was not read`, error));
      return;
    } finally {
      setBusy(null);
    }
    // A corrected file (chosen from the preview) is previewed at once; the
    // columns the person mapped keep their fields either way.
    const again = file !== null && step !== "upload";
    const nextMapping = carryMapping(mapping, loaded.table.header, fields);
    setFile(loaded);
    setMapping(nextMapping);
    setPreview(null);
    setRefused(null);
    setDone(null);
    if (again) await dryRun(loaded, nextMapping);
    else setStep("map");
  }

  async function apply(asDrafts: boolean) {
    if (!file || !preview) return;
    setBusy("applying");
    setFailure(null);
    setRefused(null);
    try {
      const { body, contentType } = requestBody(file, mapping);
      const result = await api.importFile(resource, body, contentType, {
        ...keyQuery,
        dry_run: false,
        ...(preview.preview != null ? { preview: preview.preview } : {}),
        ...(asDrafts ? { as: "drafts" as const } : {}),
      });
      setDone(result);
      setStep("done");
      await queryClient.invalidateQueries({ queryKey: ["list", resource] });
      await queryClient.invalidateQueries({ queryKey: ["counts", resource] });
    } catch (error) {
      if (error instanceof ImportRefused) setRefused(error.result);
      setStale(error instanceof ProblemError && error.status === 409);
      setFailure(
        failureOf(
          error instanceof ProblemError && error.status === 409
            ? "Not imported: some records changed since your preview"
            : "Not imported: nothing was written",
          error,
        ),
      );
    } finally {
      setBusy(null);
    }
  }

  const columns = file ? previewColumns(file, mapping, fields) : [];
  const shown = refused ?? preview;
  const changes = preview ? preview.summary.insert + preview.summary.update : 0;
  const reachable = (s: Step) =>
    s === "upload" || (s === "map" && file !== null) || (s === "preview" && preview !== null) || s === step;

  return (
    <section className="import-page">
      <div className="toolbar">
        <h1>Import {meta.label_plural.toLowerCase()}</h1>
        <span className="spacer" />
        <Link to={`/r/${encodeURIComponent(resource)}`}>Back to the list</Link>
      </div>
      <WizardSteps step={step} reachable={reachable} onStep={setStep} disabled={busy !== null} />

      {failure && <FailureBox failure={failure} />}
      {busy === "reading" && <p role="status">Reading the file…</p>}
      {busy === "previewing" && <p role="status">Checking every line (nothing is written)…</p>}

      {step === "upload" && (
        <>
          <p>
            A CSV (UTF-8, first line the column names) or an Excel workbook (.xlsx, first sheet) of{" "}
            {meta.label_plural.toLowerCase()}. A line whose key ({keys[0]?.label ?? "none"}) names a record updates it; the others
            are new records. Nothing is written before you have seen the preview.
          </p>
          <FileDrop
            onFile={(f) => void choose(f)}
            label="Choose a file"
            hint={`CSV or Excel (.xlsx)${cap !== undefined ? `, up to ${formatBytes(cap)}` : ""}.${file ? ` Current: ${file.name}, ${formatBytes(file.size)}.` : ""}`}
            disabled={busy !== null}
          />
        </>
      )}

      {step === "map" && file && (
        <>
          <p>
            {file.name} ({formatBytes(file.size)}): choose the field each column fills. Suggestions come from the column names.
          </p>
          <MappingTable
            table={file.table}
            fields={fields}
            mapping={mapping}
            onMapping={setMapping}
            keys={keys}
            keyField={keyField}
            onKey={setKeyField}
          />
          <MappingNotes meta={meta} mapping={mapping} pk={pk} />
          <div className="wizard-actions">
            <button type="button" className="secondary" onClick={() => setStep("upload")} disabled={busy !== null}>
              Choose another file
            </button>
            <span className="spacer" />
            <button
              type="button"
              onClick={() => void dryRun(file, mapping)}
              disabled={busy !== null || twice.length > 0 || columns.length === 0}
            >
              Preview the import
            </button>
          </div>
        </>
      )}

      {step === "preview" && file && shown && (
        <>
          <Summary result={shown} />
          {busy === "applying" && (
            <div role="status">
              <p>
                {changes} change{changes === 1 ? "" : "s"} being written in one transaction…
              </p>
              <progress className="applying" aria-label="Importing" />
            </div>
          )}
          <PreviewTable
            result={shown}
            records={file.records}
            columns={columns}
            labelOf={(name) => meta.fields.find((f) => f.name === name)?.label ?? name}
          />
          <FixBox
            file={file}
            invalid={shown.summary.invalid > 0}
            conflict={stale}
            busy={busy !== null}
            onFile={(f) => void choose(f)}
            onPreviewAgain={() => void dryRun(file, mapping)}
          />
          <div className="wizard-actions">
            <button type="button" className="secondary" onClick={() => setStep("map")} disabled={busy !== null}>
              Back to the columns
            </button>
            <span className="spacer" />
            {!refused && !stale && preview && preview.summary.invalid === 0 && (
              <>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => void apply(true)}
                  disabled={busy !== null || changes === 0}
                  title="Each new or changed line becomes a draft submitted for review; a reviewer publishes them together"
                >
                  Stage as drafts for review
                </button>
                <button type="button" onClick={() => void apply(false)} disabled={busy !== null || changes === 0}>
                  Import {changes} change{changes === 1 ? "" : "s"}
                </button>
              </>
            )}
          </div>
        </>
      )}

      {step === "done" && done && (
        <ImportDone
          resource={resource}
          meta={meta}
          done={done}
          onAnother={() => {
            setFile(null);
            setPreview(null);
            setDone(null);
            setStep("upload");
          }}
        />
      )}
    </section>
  );
}

