"""The change log, at the bottom of the layering: everything else may use it.

The capture triggers write ``collabadmin_change``; this package is what the
rest of collabadmin knows about it: the table and the API's ``Change``
(:mod:`~collabadmin.changelog.changes`, :mod:`~collabadmin.changelog.types`),
positions and cursors in the commit-ordered stream
(:mod:`~collabadmin.changelog.position`), the one "committed between two
snapshots" predicate and the batch readers built on it
(:mod:`~collabadmin.changelog.batches`), what a write based on an old
version meets (:mod:`~collabadmin.changelog.conflicts`), and the registry through which the
owners of drafts and workflow runs say how their entries are shown
(:mod:`~collabadmin.changelog.renderers`).

It imports nothing of collabadmin but the errors and input helpers: what it
needs of a connection is a protocol (:class:`~collabadmin.changelog.types.Reader`).
"""
