import { useEffect } from "react";

const APP = "collabadmin";

/**
 * The document's title for the page shown: its parts from the most specific
 * ("Advanced Accounting 147", "Courses"), then the app's name, so a tab, the
 * history and a bookmark say which page it is. Undefined parts (still
 * loading) are left out.
 */
export function usePageTitle(...parts: (string | null | undefined)[]): void {
  const title = [...parts.filter((p): p is string => Boolean(p)), APP].join(" – ");
  useEffect(() => {
    document.title = title;
  }, [title]);
}
