// Short notices about things that happened in the background (a change by
// someone else, a lost connection, an undoable delete). One polite live
// region announces them to screen readers; each disappears on its own.
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface Toast {
  id: number;
  text: string;
  tone: "info" | "success" | "error";
  action?: ToastAction;
}

type Show = (text: string, options?: { tone?: Toast["tone"]; action?: ToastAction; ms?: number }) => void;

const ToastContext = createContext<Show>(() => undefined);

export function useToast(): Show {
  return useContext(ToastContext);
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const show = useCallback<Show>(
    (text, options = {}) => {
      const id = next.current++;
      setToasts((all) => [...all.slice(-4), { id, text, tone: options.tone ?? "info", action: options.action }]);
      window.setTimeout(() => dismiss(id), options.ms ?? (options.action ? 8000 : 4000));
    },
    [dismiss],
  );
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
        {toasts.map((t) => (
          <div key={t.id} className={`toast ${t.tone}`}>
            <span>{t.text}</span>
            {t.action && (
              <button
                type="button"
                className="link"
                onClick={() => {
                  t.action?.run();
                  dismiss(t.id);
                }}
              >
                {t.action.label}
              </button>
            )}
            <button type="button" className="link close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
