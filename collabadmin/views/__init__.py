"""Live views: derived rows evaluated per commit-ordered batch, stored, diffed and pushed.

A database view (or a keyed SELECT declared in Python) over tracked tables
is served as a live, read-only resource. collabadmin keeps a materialised
copy of it (:mod:`collabadmin.db.live_copy`), and after each batch of
changes evaluates only the rows the batch touched
(:mod:`~collabadmin.views.touched`, shared with the workflow evaluator),
diffs them with the copy and writes the rows that moved, each with an entry
in the derived log (:mod:`~collabadmin.views.refresh`). The hub reads that
log with the change log, in the same snapshot batches, so subscribers of
``r/{view}`` get ``change`` frames in commit order, resumable with the same
cursors, filtered by the view's resource's permissions. A read of a view
first brings it up to date (:mod:`~collabadmin.views.evaluator`). See
docs/live-views.md.
"""

from collabadmin.views.definitions import LiveView, Watch

__all__ = ["LiveView", "Watch"]
