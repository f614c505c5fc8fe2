import { useEffect, useLayoutEffect, useRef, type KeyboardEvent, type ReactNode } from "react";
import { createPortal } from "react-dom";

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type='hidden'])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  "[tabindex]:not([tabindex='-1'])",
].join(",");

function focusables(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => !el.closest("[hidden]"));
}

interface Props {
  /** `alertdialog` for a question that interrupts (leave without saving?, purge?). */
  role?: "dialog" | "alertdialog";
  /** The id of the heading that names it, or a name of its own. */
  labelledBy?: string;
  label?: string;
  /** Escape calls it; so does whatever button the dialog offers to close. */
  onClose: () => void;
  className?: string;
  children: ReactNode;
}

/**
 * Focus kept inside a modal element (a dialog, the phone's navigation
 * drawer): it moves in when the element mounts (to the element with
 * `autoFocus` or `data-autofocus`, else the first control), Tab and
 * Shift+Tab cycle inside it, Escape calls `onClose`, and focus returns
 * where it was when the element goes.
 *
 * The trap is a key handler and an effect on a stable element: nothing is
 * re-mounted on a re-render, so state held by the content (the conflict
 * dialog's choices) lives as long as the element does. `onClose` is read
 * through a ref, so a new function each render does not re-run the opening
 * effect (which would move the focus back to the first control).
 */
export function useModalFocus<T extends HTMLElement>(onClose: () => void) {
  const box = useRef<T>(null);
  const close = useRef(onClose);
  useLayoutEffect(() => {
    close.current = onClose;
  });

  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const root = box.current;
    if (root && !root.contains(document.activeElement)) {
      const first = root.querySelector<HTMLElement>("[autofocus], [data-autofocus]") ?? focusables(root)[0] ?? root;
      first.focus();
    }
    return () => {
      // Back to the control that opened it, if it is still there.
      if (before && document.contains(before)) before.focus();
    };
  }, []);

  function onKeyDown(e: KeyboardEvent<T>) {
    if (e.key === "Escape") {
      e.stopPropagation();
      close.current();
      return;
    }
    if (e.key !== "Tab" || !box.current) return;
    const all = focusables(box.current);
    if (all.length === 0) {
      e.preventDefault();
      return;
    }
    const first = all[0];
    const last = all[all.length - 1];
    const at = document.activeElement;
    if (e.shiftKey && (at === first || !box.current.contains(at))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (at === last || !box.current.contains(at))) {
      e.preventDefault();
      first.focus();
    }
  }

  return { ref: box, onKeyDown };
}

/** A modal dialog, its focus kept inside (useModalFocus); Escape calls `onClose`. */
export function Dialog({ role = "dialog", labelledBy, label, onClose, className, children }: Props) {
  const { ref, onKeyDown } = useModalFocus<HTMLDivElement>(onClose);
  // In a portal on <body>: a dialog opened from a table cell is not clipped by the scrolling
  // table box nor covered by its sticky header. React events still bubble along the React tree.
  return createPortal(
    <div className="backdrop">
      <div
        ref={ref}
        className={`dialog${className ? ` ${className}` : ""}`}
        role={role}
        aria-modal="true"
        aria-labelledby={labelledBy}
        aria-label={labelledBy ? undefined : label}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        {children}
      </div>
    </div>,
    document.body,
  );
}

interface ConfirmProps {
  title: string;
  children: ReactNode;
  confirm: string;
  /** A destructive action: its button is styled as such. */
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

/** A yes/no question before an action that cannot be undone; Cancel has the focus. */
export function ConfirmDialog({ title, children, confirm, danger, busy, onConfirm, onCancel }: ConfirmProps) {
  return (
    <Dialog role="alertdialog" labelledBy="confirm-title" onClose={onCancel} className="narrow">
      <h2 id="confirm-title">{title}</h2>
      {children}
      <div className="actions">
        <span className="spacer" />
        <button type="button" className="secondary" onClick={onCancel} data-autofocus>
          Cancel
        </button>
        <button type="button" className={danger ? "danger" : undefined} disabled={busy} onClick={onConfirm}>
          {busy ? "Working…" : confirm}
        </button>
      </div>
    </Dialog>
  );
}
