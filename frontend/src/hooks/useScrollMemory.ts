// A list's scroll position, per history entry: saved as the user scrolls,
// restored when the entry is shown again (Back from a record, a reload).
// The rows must be there first: the pages loaded then are loaded again
// (from the query cache after Back, from the server after a reload), up to
// a bound, before the position is set.
import { useEffect, useLayoutEffect, useRef } from "react";

/** Pages loaded again to reach a remembered position (50 rows each). */
const MAX_PAGES_RESTORED = 10;
const STORE = "collabadmin:list-scroll:";

interface Remembered {
  top: number;
  pages: number;
}

function read(key: string): Remembered | null {
  try {
    const raw = sessionStorage.getItem(STORE + key);
    return raw ? (JSON.parse(raw) as Remembered) : null;
  } catch {
    return null;
  }
}

interface Options {
  /** The history entry (react-router's location.key): one position per entry. */
  entry: string;
  /** Pages loaded, whether there are more, and how to load the next. */
  pages: number;
  hasMore: boolean;
  loadMore: () => void;
  /** The rows are loaded (not the first load in progress). */
  ready: boolean;
}

/** Remembers the scroll position of the element the returned ref is put on. */
export function useScrollMemory<T extends HTMLElement>({ entry, pages, hasMore, loadMore, ready }: Options) {
  const scroller = useRef<T>(null);
  // The entry whose position has been restored (or had none to restore).
  const restored = useRef<string | null>(null);
  const pagesRef = useRef(pages);
  useLayoutEffect(() => {
    pagesRef.current = pages;
  });

  // Restore: load pages up to the remembered count, then scroll there.
  useLayoutEffect(() => {
    const box = scroller.current;
    if (!ready || !box || restored.current === entry) return;
    const want = read(entry);
    if (want && pages < Math.min(want.pages, MAX_PAGES_RESTORED) && hasMore) {
      loadMore();
      return;
    }
    // A list shown for the first time is at its top already: setting it
    // would lay the page out at once, in the middle of React's commit.
    if (want || restored.current !== null) box.scrollTop = want?.top ?? 0;
    restored.current = entry;
  }, [ready, pages, hasMore, loadMore, entry]);

  // Remember: the position and the pages under it, as the user scrolls.
  useEffect(() => {
    const box = scroller.current;
    if (!box) return;
    let frame = 0;
    const save = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        // Not while a restore is still loading its pages: it would save the top.
        if (restored.current !== entry) return;
        try {
          sessionStorage.setItem(STORE + entry, JSON.stringify({ top: box.scrollTop, pages: pagesRef.current }));
        } catch {
          // Storage full or refused: the position is simply not remembered.
        }
      });
    };
    box.addEventListener("scroll", save, { passive: true });
    return () => {
      cancelAnimationFrame(frame);
      box.removeEventListener("scroll", save);
    };
  }, [entry, ready]);

  return scroller;
}
