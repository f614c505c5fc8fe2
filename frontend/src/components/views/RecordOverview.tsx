// The live views whose rows describe this record (a course's overview: its
// sessions, instructors, pending drafts...), each shown as a small panel of
// figures kept current from the view's record topic. A figure that moves is
// marked for a moment so the eye finds it.
import { useEffect, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { Change, RecordBody, ResourceMeta } from "../../api/models";
import { live } from "../../live";
import { display } from "../../format";

const FLASH_MS = 2500;

/** Every live view that describes records of `resource`, for the record `pk`. */
export function RecordOverviews({ resource, pk, resources }: { resource: string; pk: string; resources: ResourceMeta[] }) {
  return (
    <>
      {resources
        .filter((view) => view.describes === resource)
        .map((view) => (
          <RecordOverview key={view.name} view={view} pk={pk} />
        ))}
    </>
  );
}

/**
 * The row as the next change makes it, or null when the change cannot be
 * applied to it (not the very next version): the row is then read again.
 */
export function applyChange(row: RecordBody, change: Change): RecordBody | null {
  if (change.version <= row._version) return row; // already shown (read after the change)
  if (change.version !== row._version + 1) return null;
  const next: RecordBody = { ...row, _version: change.version };
  for (const [name, d] of Object.entries(change.diff)) {
    if (name === "deleted_at") next._deleted_at = d.new as string | null;
    else if (name in row) next[name] = d.new;
  }
  return next;
}

function RecordOverview({ view, pk }: { view: ResourceMeta; pk: string }) {
  const queryClient = useQueryClient();
  const row = useQuery({
    queryKey: ["overview", view.name, pk],
    queryFn: () => api.get(view.name, pk),
    // Out of the reader's scope or no row yet: a 404 is an answer, not a fault.
    retry: false,
  });
  const [moved, setMoved] = useState<Set<string>>(new Set());
  const loaded = row.data !== undefined;

  useEffect(() => {
    if (!loaded) return undefined;
    const key = ["overview", view.name, pk];
    let timer: number | undefined;
    const stop = live.subscribe(`r/${view.name}/${pk}`, (frame) => {
      if (frame.type === "resync") {
        void queryClient.invalidateQueries({ queryKey: key });
        return;
      }
      if (frame.type !== "change") return;
      const current = queryClient.getQueryData<RecordBody>(key);
      const next = current && applyChange(current, frame.change);
      if (!next) {
        void queryClient.invalidateQueries({ queryKey: key });
        return;
      }
      queryClient.setQueryData(key, next);
      setMoved(new Set(Object.keys(frame.change.diff)));
      window.clearTimeout(timer);
      timer = window.setTimeout(() => setMoved(new Set()), FLASH_MS);
    });
    return () => {
      stop();
      window.clearTimeout(timer);
    };
  }, [loaded, view.name, pk, queryClient]);

  if (!row.data) return null;
  const shown = view.fields.filter((f) => f.name !== view.pk && f.name !== view.display);
  const gone = row.data._deleted_at !== null;
  return (
    <section className="panel overview" aria-labelledby={`overview-${view.name}`} data-testid={`overview-${view.name}`}>
      <h2 id={`overview-${view.name}`}>{view.label}</h2>
      {gone ? (
        <p className="muted">No longer in this view.</p>
      ) : (
        <dl className="figures">
          {shown.map((f) => (
            <div key={f.name} className={moved.has(f.name) ? "flash" : undefined} data-field={f.name}>
              <dt>{f.label}</dt>
              <dd>{display(row.data[f.name], f)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
