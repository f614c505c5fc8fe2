"""Record actions: every write to a record, as an object with ``check()`` then ``execute()``.

As in Wagtail's ``actions/``, a mutation is an object built from an
:class:`~collabadmin.db.engine.Actor` and typed inputs, knowing nothing of
HTTP, so that routes, the draft publisher (and its scheduler), revert and
tests all go through one path:

* ``check()`` raises (403, 404, 409, 422) for what can be decided without
  the row: permission on the resource, a key that cannot be one, a body
  that cannot be valid. It writes nothing and may be called alone (to
  refuse early, or to ask whether an action is possible).
* ``execute(tx=None)`` checks again, then in one transaction locks the row
  within the actor's row scope, checks what depends on the row (its
  version, its state, rules that read it) under that lock, writes, and lets
  the capture trigger log the change with the actor, source and request id.
  Given a transaction, it runs inside it (a caller writing many rows).
"""

from collabadmin.resources.actions._base import RecordAction, Written
from collabadmin.resources.actions._versions import patched_forms, record_conflicts
from collabadmin.resources.actions.create import CreateRecord
from collabadmin.resources.actions.lifecycle import Purge, Restore, SoftDelete
from collabadmin.resources.actions.patch import FieldRules, PatchRecord
from collabadmin.resources.actions.run import ActionRun, RunRecordAction

__all__ = [
    "ActionRun",
    "CreateRecord",
    "FieldRules",
    "PatchRecord",
    "Purge",
    "RecordAction",
    "Restore",
    "RunRecordAction",
    "SoftDelete",
    "Written",
    "patched_forms",
    "record_conflicts",
]
