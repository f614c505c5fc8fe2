import { useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router-dom";
import { Dialog } from "./Dialog";

/** A key sequence, what it does, and where it goes (`to`) or what it runs. */
export interface Shortcut {
  keys: string[];
  label: string;
  to?: string;
  run?: () => void;
}

/** How long the second key of a "g then x" sequence is waited for. */
const SEQUENCE_MS = 1200;

/** Typing into a field (or a dialog having the focus) is never a shortcut. */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target.closest("[role='dialog'], [role='alertdialog'], [role='listbox'], [role='combobox']")) return true;
  return ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

/** The search box of the page, if it has one. */
function focusSearch(): void {
  const search = document.querySelector<HTMLInputElement>("main input[type='search']");
  search?.focus();
  search?.select();
}

/**
 * Global keyboard shortcuts (`?` lists them): `/` to the page's search, `g`
 * then a letter to a page. Keys pressed while typing in a field or inside a
 * dialog are the field's, never a shortcut; modifier chords are the browser's.
 */
export function useShortcuts(shortcuts: Shortcut[]): { helpOpen: boolean; closeHelp: () => void } {
  const navigate = useNavigate();
  const [helpOpen, setHelpOpen] = useState(false);
  const pending = useRef<{ key: string; at: number } | null>(null);
  const current = useRef(shortcuts);
  useEffect(() => {
    current.current = shortcuts;
  });

  useEffect(() => {
    function onKeyDown(e: KeyboardEvent) {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (e.key === "?") {
        e.preventDefault();
        setHelpOpen(true);
        return;
      }
      if (e.key === "/") {
        e.preventDefault();
        focusSearch();
        return;
      }
      const before = pending.current;
      pending.current = null;
      const sequence =
        before && e.timeStamp - before.at < SEQUENCE_MS ? [before.key, e.key] : [e.key];
      const match = current.current.find(
        (s) => s.keys.length === sequence.length && s.keys.every((k, i) => k === sequence[i]),
      );
      if (match) {
        e.preventDefault();
        if (match.to) navigate(match.to);
        match.run?.();
      } else if (current.current.some((s) => s.keys.length > 1 && s.keys[0] === e.key)) {
        pending.current = { key: e.key, at: e.timeStamp };
      }
    }
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [navigate]);

  return { helpOpen, closeHelp: () => setHelpOpen(false) };
}

/** The list `?` opens. */
export function ShortcutsHelp({ shortcuts, onClose }: { shortcuts: Shortcut[]; onClose: () => void }) {
  const all: Shortcut[] = [
    { keys: ["?"], label: "Show these shortcuts" },
    { keys: ["/"], label: "Search this list" },
    ...shortcuts,
    { keys: ["Esc"], label: "Close a dialog or the navigation" },
  ];
  return (
    <Dialog labelledBy="shortcuts-title" onClose={onClose} className="narrow">
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <table className="shortcuts">
        <tbody>
          {all.map((s) => (
            <tr key={s.keys.join(" ")}>
              <td>
                {s.keys.map((k, i) => (
                  <span key={k + i}>
                    {i > 0 && " then "}
                    <kbd>{k}</kbd>
                  </span>
                ))}
              </td>
              <td>{s.label}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        <span className="spacer" />
        <button type="button" onClick={onClose} data-autofocus>
          Close
        </button>
      </div>
    </Dialog>
  );
}
