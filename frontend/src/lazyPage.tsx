// Pages other than the lists load on demand, each in its own chunk
// (React.lazy, pageChunks.ts), so the first script of the app holds only the
// shell and the lists. A chunk that fails to load is most often one
// of an earlier build (the server was upgraded while this tab was open, and
// the file is gone): the page is reloaded once, which gets the new build.
// Failing again, the page says so with a way to try again.
import { Component, lazy, Suspense, type ComponentType, type ReactNode } from "react";

const RELOADED = "collabadmin:reloaded-for-chunk";

/**
 * A page component loaded by `load` the first time it is shown; also parts of
 * a page that are not on its first screen (the list's bulk bar, its column
 * chooser), shown inside a `Suspense` of their own.
 */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  return lazy(async () => {
    try {
      const page = await load();
      sessionStorage.removeItem(RELOADED);
      return { default: page };
    } catch (error) {
      if (sessionStorage.getItem(RELOADED) === null) {
        sessionStorage.setItem(RELOADED, "1");
        window.location.reload();
        return new Promise<never>(() => undefined); // the reload replaces this page
      }
      throw error;
    }
  });
}

interface BoundaryProps {
  page: string;
  children: ReactNode;
}

/** Catches a page that failed to load; going to another page tries again. */
class PageLoadBoundary extends Component<BoundaryProps, { page: string; failed: boolean }> {
  state = { page: this.props.page, failed: false };

  static getDerivedStateFromProps(props: BoundaryProps, state: { page: string; failed: boolean }) {
    return props.page === state.page ? null : { page: props.page, failed: false };
  }

  static getDerivedStateFromError() {
    return { failed: true };
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="error" role="alert">
        <p>This page could not be shown.</p>
        <button
          type="button"
          onClick={() => {
            sessionStorage.removeItem(RELOADED);
            window.location.reload();
          }}
        >
          Reload
        </button>
      </div>
    );
  }
}

/** Where lazy pages are shown: "Loading…" while a page's chunk loads; a failed load said so. */
export function PageSuspense({ page, children }: { page: string; children: ReactNode }) {
  return (
    <PageLoadBoundary page={page}>
      <Suspense fallback={<p role="status">Loading…</p>}>{children}</Suspense>
    </PageLoadBoundary>
  );
}
