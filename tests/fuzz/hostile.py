"""Inputs that used to answer 500, sent explicitly to every operation of a document.

Random generation rarely hits them: non-ASCII digits, which pass
``isdigit()`` but fail ``int()``; NUL characters, which PostgreSQL text
refuses; keys beyond a column's range; JSON deeper than any record. Writes
get them with a broken precondition header and, so that the body is read
at all, with a sound one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

HOSTILE_VALUES = ("²", "٣", "\uff11", "a\x00b", "2147483648", "9" * 25)
HOSTILE_BODIES: tuple[dict[str, Any], ...] = (
    {"username": "a\x00b", "password": "x"},
    {"name": "a\x00b", "title": "a\x00b", "comment": "a\x00b"},
    {"a\x00b": 1},
    {"data": {"title": "a\x00b"}, "fields": ["a\x00b"], "change_id": 1},
    {"nested": json.loads("[" * 40 + "]" * 40)},
)
HOSTILE_QUERY = ("limit", "cursor", "q", "filter[id]", "filter[title]", "sort")
BROKEN_PRECONDITION = {"If-Match": '"²"', "X-Base-Version": "²"}
SOUND_PRECONDITION = {"X-Base-Version": "1"}


def hostile_cases(operation: Any, sane_path: Mapping[str, str]) -> Iterator[Any]:
    """Schemathesis cases of ``operation``: one hostile value at a time, elsewhere ``sane_path``.

    A path parameter ``sane_path`` does not name is ``"1"``.
    """
    names = [p.name for p in operation.path_parameters]
    sane = {n: sane_path.get(n, "1") for n in names}
    write = operation.method.upper() in ("POST", "PUT", "PATCH", "DELETE")
    headers = BROKEN_PRECONDITION if write else {}
    for value in HOSTILE_VALUES:
        for name in names:
            yield operation.Case(path_parameters={**sane, name: value}, headers=headers)
        if not write:
            for param in HOSTILE_QUERY:
                yield operation.Case(path_parameters=sane, query={param: value})
    if write:  # bodies the documented schemas would never generate
        for body in HOSTILE_BODIES:
            for precondition in (BROKEN_PRECONDITION, SOUND_PRECONDITION):
                yield operation.Case(
                    path_parameters=sane,
                    headers=precondition,
                    body=body,
                    media_type="application/json",
                )
