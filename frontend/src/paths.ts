// Addresses of pages that load on demand (their own chunks), for the links
// to them on pages that are always loaded: importing them from the pages
// themselves would pull those pages into the first script.

/** Where the form to create a record of `resource` is. */
export function newRecordPath(resource: string): string {
  return `/r/${resource}/records/new`;
}

/** Two segments, like records/new: a record whose key is "import" keeps its own address. */
export function importPath(resource: string): string {
  return `/r/${encodeURIComponent(resource)}/records/import`;
}
