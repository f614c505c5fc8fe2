// The pages loaded on demand, each its own chunk (App.tsx shows them through
// React.lazy). Calling a loader again gives the module already loaded or on
// its way: startup.ts starts the chunk of the page an address opens along
// with the page's first requests, and the list starts the record page's once
// its rows are shown, so opening a record waits for no script.
import type { ComponentType } from "react";

export type PageLoader = () => Promise<ComponentType>;

export const loadDashboard: PageLoader = () => import("./pages/Dashboard").then((m) => m.Dashboard);
export const loadRecordPage: PageLoader = () => import("./pages/RecordPage").then((m) => m.RecordPage);
export const loadAuditPage: PageLoader = () => import("./pages/AuditPage").then((m) => m.AuditPage);
export const loadDraftPage: PageLoader = () => import("./pages/DraftPage").then((m) => m.DraftPage);
export const loadDraftsPage: PageLoader = () => import("./pages/DraftsPage").then((m) => m.DraftsPage);
export const loadImportPage: PageLoader = () => import("./pages/ImportPage").then((m) => m.ImportPage);
export const loadNewDraftPage: PageLoader = () => import("./pages/NewDraftPage").then((m) => m.NewDraftPage);
export const loadNewRecordPage: PageLoader = () => import("./pages/NewRecordPage").then((m) => m.NewRecordPage);
export const loadWorkflowRunPage: PageLoader = () => import("./pages/WorkflowRunPage").then((m) => m.WorkflowRunPage);
export const loadWorkflowRunsPage: PageLoader = () =>
  import("./pages/WorkflowRunsPage").then((m) => m.WorkflowRunsPage);

// Parts of the list page that are not on its first screen.
export const loadBulkBar = () => import("./components/list/BulkBar").then((m) => m.BulkBar);
export const loadColumnChooser = () => import("./components/list/ColumnChooser").then((m) => m.ColumnChooser);

/** Starts loading a page's chunk ahead of showing it (a failure is left to the page's own load). */
export function preload(load: () => Promise<unknown>): void {
  load().catch(() => undefined);
}

/**
 * Starts loading chunks once the browser has nothing more urgent to do, and
 * at most `within` ms later: after a page's first screen, so that they do
 * not hold it up. Keep `within` short for a chunk the next click may need
 * (the list passes 1 for the record page's): compiled during that click, it
 * would slow it. Returns a cancel.
 */
export function preloadWhenIdle(loads: (() => Promise<unknown>)[], within = 2000): () => void {
  const start = () => loads.forEach(preload);
  if (typeof requestIdleCallback !== "function") {
    const timer = setTimeout(start, 0);
    return () => clearTimeout(timer);
  }
  const handle = requestIdleCallback(start, { timeout: within });
  return () => cancelIdleCallback(handle);
}
