"""Writing an import's lines in one transaction, in file order, through the record actions.

Each line written is one change with ``source: "import"``, through the same
record actions as a PATCH or a create, each audited by the capture trigger.
Consecutive inserts of the same columns go in batches of
:data:`INSERT_BATCH` rows, one round trip each (their values were validated
when the lines were checked, in this transaction); updates one by one, each
locked and checked against the version its line saw. A conflict or a
refusal is noted on its line; a database error aborts the transaction and
refuses the whole import, naming the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import psycopg
from sqlalchemy import false, select

from collabadmin.changelog.conflicts import Precondition
from collabadmin.db.engine import Tx
from collabadmin.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
    translate_db_error,
)
from collabadmin.imports.plan import Importer, Planned, Refused, created_since, problem_errors
from collabadmin.imports.types import ImportConflict
from collabadmin.resources.actions import CreateRecord, PatchRecord
from collabadmin.resources.actions._rows import insert_rows

__all__ = ["INSERT_BATCH", "write_lines"]

INSERT_BATCH = 500


async def write_lines(
    importer: Importer, tx: Tx, planned: Sequence[Planned], seen: Mapping[str, int] | None
) -> None:
    """Write every line in ``tx``, in file order; conflicts and refusals noted on their lines.

    ``seen``: the version of each record the preview read (None: no preview,
    the versions read in ``tx``).
    """
    pending: list[Planned] = []
    for p in planned:
        if p.op == "unchanged":
            continue
        if p.op == "insert" and p.columns is not None:
            if pending and (
                len(pending) >= INSERT_BATCH
                or (pending[0].columns or {}).keys() != p.columns.keys()
            ):
                await _insert_batch(importer, tx, planned, pending)
                pending = []
            pending.append(p)
            continue
        if pending:
            await _insert_batch(importer, tx, planned, pending)
            pending = []
        await _write_one(importer, tx, planned, p, seen)
    if pending:
        await _insert_batch(importer, tx, planned, pending)


async def _insert_batch(
    importer: Importer, tx: Tx, planned: Sequence[Planned], batch: Sequence[Planned]
) -> None:
    resource, policy = importer.resource, importer.records.policy
    values = [p.columns or {} for p in batch]
    try:
        async with tx.conn.transaction():  # a savepoint: a refused batch leaves nothing
            rows = await insert_rows(
                importer.records, tx, resource, tuple(sorted(values[0])), values
            )
    except psycopg.Error:
        # The database refused one of them: one at a time, to name its line.
        for p in batch:
            await _write_one(importer, tx, planned, p, None)
        return
    scope = policy.row_filter(importer.actor, resource, "add")
    inside: set[str] | None = None
    if scope is not None:
        keys = [resource.key_of(row) for row in rows]
        among = resource.keys_among(keys)
        found = await tx.rows(
            select(resource.key_sql().label("k")).where(false() if among is None else among, scope)
        )
        inside = {r["k"] for r in found}
    for p, row in zip(batch, rows, strict=True):
        p.pk = resource.key_of(row)
        p.version = row["version"] if resource.versioned else None
        if inside is not None and p.pk not in inside:
            p.errors.append(FieldError("", "You may not create a record outside your scope."))
            p.pk = p.version = None


async def _write_one(
    importer: Importer,
    tx: Tx,
    planned: Sequence[Planned],
    p: Planned,
    seen: Mapping[str, int] | None,
) -> None:
    request, resource = importer.request, importer.resource
    try:
        if p.op == "update":
            assert p.row is not None
            assert p.pk is not None
            base = p.version or 1
            if seen is not None:
                if p.pk not in seen:
                    p.conflicts.append(created_since(importer, p))
                    return
                base = seen[p.pk]
            written = await PatchRecord(
                records=importer.records, actor=importer.actor, resource=resource.name,
                pk=resource.key_values(p.row), changes=p.values,
                precondition=Precondition(base, strict=False),
                source="import", request_id=request.request_id,
            ).execute(tx)  # fmt: skip
        else:
            written = await CreateRecord(
                records=importer.records, actor=importer.actor, resource=resource.name,
                values=p.values, source="import", request_id=request.request_id,
            ).execute(tx)  # fmt: skip
    except Conflict as exc:
        found = exc.extensions.get("conflicts")
        if found is None:
            p.errors.extend(problem_errors(exc))
        else:
            p.conflicts.extend(msgspec.convert(found, list[ImportConflict]))
        return
    except (Forbidden, NotFound) as exc:
        p.errors.append(FieldError(importer.keys[0] if importer.keys else "", exc.detail))
        return
    except ValidationFailed as exc:
        p.errors.extend(exc.errors)
        return
    except psycopg.Error as exc:
        # The transaction is aborted: this line is the one to blame.
        problem = translate_db_error(exc)
        if problem is None:
            raise
        p.errors.extend(problem_errors(problem))
        raise Refused(planned, 422) from None
    p.pk = resource.key_of(written.row)
    p.version = written.row["version"] if resource.versioned else None
