import { useRef, useState, type KeyboardEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, ProblemError } from "../../api/client";
import type { SharedView, ViewConfig } from "../../api/models";
import { useToast } from "../../toasts";
import { reasonOf } from "../FormProblems";

interface Props {
  resource: string;
  views: SharedView[];
  /** The shared view shown, null for the user's own view. */
  active: SharedView | null;
  /** The address names a shared view that no longer exists. */
  missing: boolean;
  /** What the list shows now (columns, sort, filters). */
  config: ViewConfig;
  /** The shown config differs from the active shared view's. */
  modified: boolean;
  onChoose: (view: SharedView | null) => void;
  /** The user may share views (the resource meta's `share_view` action). */
  mayShare: boolean;
}

function problemText(e: unknown): string {
  return e instanceof ProblemError ? e.problem.errors?.map((x) => x.message).join(" ") || e.problem.detail : reasonOf(e);
}

/**
 * The list's views as tabs: the user's own ("My view", their saved
 * settings) first, then, past a divider, the views shared with everyone.
 * Choosing one changes only what this list shows (the address says which);
 * a shared view changed here can be saved over it by whoever may (its
 * creator or a superuser: the view's `editable`), or saved as a new one.
 */
export function ViewTabs({ resource, views, active, missing, config, modified, onChoose, mayShare }: Props) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tabs = useRef<HTMLDivElement>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["views", resource] });

  async function saveAsNew() {
    setError(null);
    setBusy(true);
    try {
      const view = await api.shareView(resource, name.trim(), config);
      await refresh();
      setNaming(false);
      setName("");
      onChoose(view);
      toast(`Shared the view “${view.name}”.`, { tone: "success" });
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  }

  async function update() {
    if (!active) return;
    setBusy(true);
    try {
      const view = await api.updateSharedView(resource, active.id, active.name, config);
      await refresh();
      toast(`Updated the view “${view.name}” for everyone.`, { tone: "success" });
    } catch (e) {
      toast(`The view was not updated: ${problemText(e)}`, { tone: "error" });
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!active) return;
    try {
      await api.deleteSharedView(resource, active.id);
      onChoose(null);
      await refresh();
      toast(`Deleted the view “${active.name}”.`);
    } catch (e) {
      toast(problemText(e), { tone: "error" });
    }
  }

  // Arrow keys move between the tabs (one tab stop for the whole row), Home/End to the ends.
  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const all = Array.from(tabs.current?.querySelectorAll<HTMLButtonElement>("[role=tab]") ?? []);
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: all.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    all[(to + all.length) % all.length]?.focus();
  }

  const mine = !active;
  return (
    <div className="view-tabs-bar">
      <div className="view-tabs" role="tablist" aria-label="Views" ref={tabs} onKeyDown={onKeyDown}>
        <button
          type="button"
          role="tab"
          aria-selected={mine}
          tabIndex={mine ? 0 : -1}
          aria-controls="list-scroller"
          onClick={() => !mine && onChoose(null)}
        >
          My view
        </button>
        {views.length > 0 && (
          <span className="view-tabs-divider" aria-hidden="true">
            Shared
          </span>
        )}
        {views.map((v) => (
          <button
            key={v.id}
            type="button"
            role="tab"
            className="shared-tab"
            aria-selected={active?.id === v.id}
            tabIndex={active?.id === v.id ? 0 : -1}
            aria-controls="list-scroller"
            title={v.created_by ? `Shared by ${v.created_by.name}` : "Shared"}
            onClick={() => active?.id !== v.id && onChoose(v)}
          >
            <SharedIcon />
            {v.name}
            <span className="sr-only"> (shared)</span>
          </button>
        ))}
      </div>
      <div className="view-actions">
        {missing && (
          <span className="muted" role="status">
            That shared view no longer exists; showing your own settings.
          </span>
        )}
        {active && modified && (
          <>
            <span className="badge" data-testid="view-modified">
              Changed
            </span>
            {active.editable && mayShare && (
              <button type="button" onClick={() => void update()} disabled={busy}>
                Update view
              </button>
            )}
            <button type="button" className="secondary" onClick={() => onChoose(active)} disabled={busy}>
              Reset
            </button>
          </>
        )}
        {mayShare &&
          (naming ? (
            <form
              className="inline"
              onSubmit={(e) => {
                e.preventDefault();
                void saveAsNew();
              }}
            >
              <input
                aria-label="View name"
                placeholder="View name"
                maxLength={80}
                value={name}
                onChange={(e) => setName(e.target.value)}
                autoFocus
              />
              <button type="submit" disabled={!name.trim() || busy}>
                Share
              </button>
              <button type="button" className="secondary" onClick={() => setNaming(false)}>
                Cancel
              </button>
              {error && <span className="error">{error}</span>}
            </form>
          ) : (
            (mine || modified) && (
              <button type="button" className="secondary" onClick={() => setNaming(true)}>
                Save as new view…
              </button>
            )
          ))}
        {active?.editable && !modified && (
          <button type="button" className="secondary" onClick={() => void remove()}>
            Delete view
          </button>
        )}
      </div>
    </div>
  );
}

/** Two people: a view shared with everyone. */
function SharedIcon() {
  return (
    <svg className="shared-icon" viewBox="0 0 20 16" width="18" height="14" aria-hidden="true" focusable="false">
      <circle cx="7" cy="4.5" r="3" fill="currentColor" />
      <path d="M1 15c0-3.3 2.7-5.5 6-5.5s6 2.2 6 5.5z" fill="currentColor" />
      <circle cx="14.5" cy="5" r="2.4" fill="currentColor" opacity="0.6" />
      <path d="M14 15c0-2.2-.8-3.9-2.1-4.9.8-.4 1.7-.6 2.6-.6 2.7 0 4.5 1.9 4.5 5.5z" fill="currentColor" opacity="0.6" />
    </svg>
  );
}
