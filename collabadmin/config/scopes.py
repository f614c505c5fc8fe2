"""Row scopes written in the config file, as SQL conditions bound per user.

A raw scope is one SQL condition over the resource's columns, e.g.::

    scope = "instructor_id IN (SELECT id FROM instructors WHERE \\"user\\" = :username)"

Invariants:

* the user's attributes reach the SQL only as bound parameters (``:username``,
  ``:user_id``, ``:roles``); the predicate text is never formatted with a
  value, so a username like ``x' OR '1'='1`` is just a string compared;
* the condition is evaluated in a subquery over the resource's table alone
  (``key IN (SELECT key FROM table AS scope_rows WHERE <condition>)``), so its
  unqualified column names always mean the resource's columns, whatever the
  statement it is put into joins (the write path joins a settings subquery);
* every scope is prepared with EXPLAIN, in a read-only transaction that is
  rolled back, before the server starts; an invalid one refuses start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Engine,
    Select,
    Text,
    bindparam,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.types import TypeEngine

from collabadmin.config.schema import ConfigError, Scope, UserMatch
from collabadmin.db.engine import Actor
from collabadmin.resources.resource import Resource
from collabadmin.resources.roles import RowScope

__all__ = ["PARAMETERS", "check_scope_text", "explain_scope", "row_scope"]

PARAMETERS: dict[str, TypeEngine[Any]] = {
    "username": Text(),
    "user_id": BigInteger(),
    "roles": ARRAY(Text()),
}
"""The user attributes a raw scope may name, with their SQL types."""

# SQLAlchemy's own rule for a bind in text(): ``:name`` not preceded by ``:``
# or a word character (so ``::int`` casts are not parameters).
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
_PREFIX = "scope_"


_REFUSED = {
    ";": "';' (a scope is one SQL condition, never a statement)",
    "--": "SQL comments",
    "/*": "SQL comments",
    "\\": "backslashes",
    "$": "dollar quoting",
}


def check_scope_text(predicate: str, where: str) -> None:
    """Refuse at load time what can never be a single bound condition.

    Besides statement separators and comments, the condition's parentheses
    must balance outside string literals and quoted names: ``true) OR (true``
    would otherwise close the subquery the scope is put in and widen every
    statement it is ANDed into, and EXPLAIN alone would accept it.
    """
    if not predicate.strip():
        raise ConfigError(f"{where}: scope is empty")
    for token, what in _REFUSED.items():
        if token in predicate:
            raise ConfigError(f"{where}: a scope may not contain {what}")
    if not _balanced(predicate):
        raise ConfigError(
            f"{where}: the scope's parentheses or quotes do not balance; it must be one condition"
        )
    unknown = sorted({m for m in _BIND.findall(predicate) if m not in PARAMETERS})
    if unknown:
        raise ConfigError(
            f"{where}: scope names unknown parameters {', '.join(':' + u for u in unknown)}"
            f" (available: {', '.join(':' + p for p in PARAMETERS)})"
        )


def _balanced(predicate: str) -> bool:
    depth = 0
    quote: str | None = None
    for char in predicate:
        if quote is not None:
            if char == quote:
                quote = None  # a doubled quote ('') closes and reopens: same effect
            continue
        if char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and quote is None


def _key_columns(resource: Resource, table: Any) -> list[Column[Any]]:
    pk: Any = resource.pk
    names = [pk] if isinstance(pk, str) else list(pk)
    return [table.c[name] for name in names]


def _bound_values(actor: Actor) -> dict[str, Any]:
    return {"username": actor.username, "user_id": actor.id, "roles": sorted(actor.roles)}


def _raw(predicate: str) -> RowScope:
    # Parameters are renamed scope_username... so they never collide with the
    # statement's own (pk, ctx_*); the text is otherwise left as written.
    renamed = "(" + _BIND.sub(lambda m: ":" + _PREFIX + m.group(1), predicate) + ")"
    used = sorted(set(_BIND.findall(predicate)))

    def scope(actor: Actor, resource: Resource) -> ColumnElement[bool]:
        values = _bound_values(actor)
        condition = text(renamed).bindparams(
            *(bindparam(_PREFIX + n, values[n], type_=PARAMETERS[n]) for n in used)
        )
        rows = resource.table.alias("scope_rows")
        inner = select(*_key_columns(resource, rows)).where(condition)
        outer = _key_columns(resource, resource.table)
        if len(outer) == 1:
            return outer[0].in_(inner)
        return tuple_(*outer).in_(inner)

    return scope


def _match(match: UserMatch) -> RowScope:
    def scope(actor: Actor, resource: Resource) -> ColumnElement[bool]:
        value: Any = actor.username if match.equals == "user.username" else actor.id
        condition: ColumnElement[bool] = resource.column(match.column) == value
        return condition

    return scope


def row_scope(scope: Scope) -> RowScope:
    return _raw(scope) if isinstance(scope, str) else _match(scope)


_PROBE = Actor(id=0, name="", username="", roles=frozenset())


def explain_scope(engine: Engine, checks: Iterable[tuple[str, Resource, RowScope]]) -> None:
    """Prepare each scope on its resource; ConfigError naming the first that fails.

    Each EXPLAIN runs in a read-only transaction that is rolled back, so even
    a condition calling a function with side effects changes nothing here.
    """
    with engine.connect() as conn:
        for where, resource, scope in checks:
            statement: Select[Any] = select(literal_column("1")).select_from(resource.table)
            statement = statement.where(scope(_PROBE, resource))
            compiled = statement.compile(dialect=engine.dialect)
            transaction = conn.begin()
            try:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
            except DBAPIError as exc:
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise ConfigError(
                    f"{where}: the scope is not a valid condition on {resource.table.name}:"
                    f" {reason}"
                ) from None
            except SQLAlchemyError as exc:
                raise ConfigError(f"{where}: the scope cannot be prepared: {exc}") from None
            finally:
                transaction.rollback()
