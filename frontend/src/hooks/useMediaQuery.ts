import { useCallback, useSyncExternalStore } from "react";

/** The width below which the app takes its phone layout (styles.css uses the same). */
export const PHONE_QUERY = "(max-width: 760px)";

/** Whether a media query matches, following changes (a rotated phone, a resized window). */
export function useMediaQuery(query: string): boolean {
  const subscribe = useCallback(
    (changed: () => void) => {
      if (typeof window.matchMedia !== "function") return () => {};
      const list = window.matchMedia(query);
      list.addEventListener("change", changed);
      return () => list.removeEventListener("change", changed);
    },
    [query],
  );
  return useSyncExternalStore(subscribe, () => typeof window.matchMedia === "function" && window.matchMedia(query).matches);
}

/** The phone layout: a drawer for the navigation, lists as cards. */
export function usePhone(): boolean {
  return useMediaQuery(PHONE_QUERY);
}
