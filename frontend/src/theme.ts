// Light and dark themes. The choice is kept in localStorage and applied as
// <html data-theme>; with no choice the system preference decides (styles.css).
import { useCallback, useEffect, useState } from "react";

export type Theme = "light" | "dark";
const KEY = "collabadmin.theme";

function systemTheme(): Theme {
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function storedTheme(): Theme | null {
  try {
    const value = window.localStorage.getItem(KEY);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null; // storage disabled: follow the system
  }
}

/** Apply the stored theme before the first render, so the page never flashes. */
export function applyStoredTheme(): void {
  document.documentElement.dataset.theme = storedTheme() ?? systemTheme();
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => storedTheme() ?? systemTheme());
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const toggle = useCallback(() => {
    setTheme((current) => {
      const next: Theme = current === "dark" ? "light" : "dark";
      try {
        window.localStorage.setItem(KEY, next);
      } catch {
        // not persisted; the toggle still works for this page
      }
      return next;
    });
  }, []);
  return [theme, toggle];
}
