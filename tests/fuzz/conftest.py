"""Fuzz tests use the websocket clients of the hub tests, and an admin token per server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from hypothesis import strategies as st

from tests.conftest import PASSWORD
from tests.helpers import ok
from tests.hub.conftest import Socket, SocketFor, socket_for

__all__ = [
    "Socket",
    "SocketFor",
    "reach_records",
    "revokes",
    "signed_in",
    "socket_for",
    "token_for_admin",
]


def token_for_admin(base_url: str) -> tuple[str, int]:
    """An API token of the demo user ``admin`` (signed in with :data:`PASSWORD`), and its id."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        login = ok(client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}))
        created = ok(
            client.post(
                "/api/auth/tokens",
                json={"name": "fuzz"},
                headers={"X-CSRF-Token": login["csrf_token"]},
            ),
            201,
        )
    return created["token"], int(created["id"])


def revokes(case: Any, token_id: int) -> bool:
    """Whether ``case`` is ``DELETE /api/auth/tokens/{token_id}`` of the run's own token.

    The operation is fuzzed like any other, except on the one token every
    request authenticates with: revoking it would answer every later case
    with 401, and the rest of the run would check nothing. The path value is
    read as the server reads it (``int``: "01", "+1" and an Arabic-Indic one name token 1).
    """
    if case.method.upper() != "DELETE" or case.path != "/api/auth/tokens/{token_id}":
        return False
    try:
        return int(str((case.path_parameters or {}).get("token_id"))) == token_id
    except ValueError:
        return False


def signed_in(case: Any, response: httpx.Response | Any) -> bool:
    """Whether the admin's token was still accepted: only a sign-in may answer 401."""
    return bool(response.status_code != 401 or case.path == "/api/auth/login")


def _is_record_write(operation: Any) -> bool:
    path = str(operation.path)
    return path.startswith("/api/r/") and operation.method.upper() in ("PATCH", "DELETE", "POST")


def _ends(operation: Any) -> bool:
    """Whether ``operation`` deletes or restores a record (purges included)."""
    path = str(operation.path)
    return operation.method.upper() == "DELETE" or path.endswith("/restore")


def _writable_fields(operation: Any) -> frozenset[str]:
    """The fields of the record a record write's body holds (none if it holds no record)."""
    if operation is None or not _is_record_write(operation):
        return frozenset()
    fields: set[str] = set()
    for body in operation.body:
        properties = body.definition.get("schema", {}).get("properties", {})
        fields |= {k for k, v in properties.items() if not v.get("readOnly")}
    return frozenset(fields)


def _mostly(helped: st.SearchStrategy[Any], generated: Any) -> st.SearchStrategy[Any]:
    """``helped`` three cases in four, else the value as generated."""
    return st.integers(0, 3).flatmap(lambda n: helped if n else st.just(generated))


def reach_records(
    schema: Any, resources: Sequence[str], keys: Sequence[str], doomed: Sequence[str]
) -> None:
    """Let ``schema``'s generated cases reach real records, most of the time.

    A generated key seldom names a row, the document does not describe the
    precondition headers (``If-Match``, ``X-Base-Version``), and a generated
    record mostly carries a field of a random name, so without help every
    read of a record answers 404 and every write 428 or 422. Here a
    ``resource`` or ``pk`` in a path is mostly one that exists, a record's
    write mostly carries a precondition on a small version (the rows'
    first versions: some current, some stale, for the field merge), and its
    body mostly keeps only the record's writable fields. Deletes and
    restores name the ``doomed`` keys, the other operations ``keys``: a
    purge would otherwise leave nothing to patch.
    """

    def path_parameters(context: Any, parameters: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        if not parameters or not {"pk", "resource"} & set(parameters):
            return st.just(parameters)
        known = {name: st.just(value) for name, value in parameters.items()}
        if "pk" in parameters:
            ending = _ends(context.operation)
            known["pk"] = st.sampled_from(doomed if ending else keys)
        if "resource" in parameters:
            known["resource"] = st.sampled_from(resources)
        return _mostly(st.fixed_dictionaries(known), parameters)

    def headers(context: Any, values: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        if context.operation is None or not _is_record_write(context.operation):
            return st.just(values)
        versions = st.integers(min_value=1, max_value=4).map(str)
        return _mostly(
            st.one_of(
                versions.map(lambda v: {**(values or {}), "If-Match": f'"{v}"'}),
                versions.map(lambda v: {**(values or {}), "X-Base-Version": v}),
            ),
            values,
        )

    def body(context: Any, value: Any) -> st.SearchStrategy[Any]:
        writable = _writable_fields(context.operation)
        if not isinstance(value, dict) or not writable:
            return st.just(value)
        return _mostly(st.just({k: v for k, v in value.items() if k in writable}), value)

    schema.hook("flatmap_path_parameters")(path_parameters)
    schema.hook("flatmap_headers")(headers)
    schema.hook("flatmap_body")(body)
