"""The bodies of the bulk routes and of jobs as msgspec Structs (see :mod:`collabadmin.auth.types`).

A request of the wrong shape, or with an unknown member, is refused at the
edge; :mod:`collabadmin.bulk.edit` checks what its values mean against the
resource and the user (fields, keys, filter operators).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from collabadmin.resources.list_params import Deleted, Operator

__all__ = [
    "MAX_PKS",
    "BulkConflict",
    "BulkFieldConflict",
    "BulkInvalid",
    "BulkOp",
    "BulkRequest",
    "BulkResult",
    "Job",
    "JobAccepted",
    "JobFrame",
    "JobState",
]

MAX_PKS = 10_000
"""Keys one request may name (``pks``, ``versions``); a filter has no such cap."""

BulkOp = Literal["update", "delete", "restore", "purge"]
JobState = Literal["running", "done", "failed"]

FilterValue = str | int | float | bool | None | list[str | int | float | bool]


class BulkRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What to do (``op``) to which rows (``pks`` or ``filter``, exactly one).

    ``filter`` is the list's filter grammar as JSON: ``{field: {op: value}}``
    (``in``/``overlaps`` take a list, ``isnull`` a boolean), or
    ``{field: value}`` for ``eq``; ``q`` and ``deleted`` are the list's
    search and deleted rules (``deleted`` defaults to ``only`` for
    ``restore``, else ``exclude``). ``patch`` is a merge patch (``update``
    only). ``versions`` maps a key to the version the client saw.
    """

    op: BulkOp
    pks: Annotated[list[str], msgspec.Meta(max_length=MAX_PKS)] | None = None
    filter: dict[str, FilterValue | dict[Operator, FilterValue]] | None = None
    q: str | None = None
    deleted: Deleted | None = None
    patch: dict[str, Any] | None = None
    versions: (
        Annotated[dict[str, Annotated[int, msgspec.Meta(ge=0)]], msgspec.Meta(max_length=MAX_PKS)]
        | None
    ) = None


class BulkFieldConflict(msgspec.Struct, kw_only=True):
    """One field changed by someone else since the version the client saw."""

    field: str
    base: Any
    theirs: Any
    yours: Any


class BulkConflict(msgspec.Struct, kw_only=True):
    """A row not written: it changed since the version the client saw.

    For ``update``, the fields both changed (the field merge of a PATCH
    with ``X-Base-Version``); for the others, any change (``If-Match``),
    with ``conflicts`` empty. ``version`` is the row's version now.
    """

    pk: str
    version: int
    conflicts: list[BulkFieldConflict]


class BulkFieldError(msgspec.Struct, kw_only=True):
    field: str
    message: str


class BulkInvalid(msgspec.Struct, kw_only=True):
    """A row not written: the patch breaks a rule that depends on the row (a protected field)."""

    pk: str
    errors: list[BulkFieldError]


class BulkError(msgspec.Struct, kw_only=True):
    """Why a batch failed (a problem's ``title``, ``status``, ``detail``, ``errors``)."""

    status: int
    title: str
    detail: str
    errors: list[BulkFieldError] = msgspec.field(default_factory=list)


class BulkResult(msgspec.Struct, kw_only=True):
    """The outcome for every row asked for, each key in exactly one list.

    ``done``: written, each one change with ``source: "bulk"``.
    ``unchanged``: nothing to write (the patch's values were there already,
    the record was already deleted or restored). ``conflicts``: changed
    since the client's version, not written. ``forbidden``: visible to the
    user but not theirs to change. ``not_found``: no such record the user
    may see. ``invalid``: the patch breaks a rule for that row.
    When a batch fails (the database refused it: a unique value, a check),
    it is rolled back whole: ``error`` says why, and ``not_done`` lists its
    rows and every row after it; rows in ``done`` stay written.
    """

    done: list[str] = msgspec.field(default_factory=list)
    unchanged: list[str] = msgspec.field(default_factory=list)
    conflicts: list[BulkConflict] = msgspec.field(default_factory=list)
    forbidden: list[str] = msgspec.field(default_factory=list)
    not_found: list[str] = msgspec.field(default_factory=list)
    invalid: list[BulkInvalid] = msgspec.field(default_factory=list)
    not_done: list[str] = msgspec.field(default_factory=list)
    error: BulkError | None = None


class JobAccepted(msgspec.Struct, kw_only=True):
    """``202``: the work goes on in the background.

    Follow it on the websocket topic ``jobs/{job}``, or poll ``/api/jobs/{job}``.
    """

    job: int


class Job(msgspec.Struct, kw_only=True):
    """A background job and where it has got to; ``result`` once it has finished."""

    id: int
    kind: str
    resource: str
    op: str
    state: JobState
    done: int
    total: int
    created_at: str
    finished_at: str | None
    result: BulkResult | None


class JobFrame(msgspec.Struct, kw_only=True, tag="job", tag_field="type"):
    """A websocket frame of ``jobs/{id}``: how far the job has got, then its result.

    ``progress`` carries ``done`` of ``total`` rows (after each committed
    batch, and at once to a new subscriber of a running job); ``result``
    the job's final ``state`` and ``result``, once.
    """

    topic: str
    event: Literal["progress", "result"]
    done: int | msgspec.UnsetType = msgspec.UNSET
    total: int | msgspec.UnsetType = msgspec.UNSET
    state: JobState | msgspec.UnsetType = msgspec.UNSET
    result: BulkResult | msgspec.UnsetType = msgspec.UNSET
