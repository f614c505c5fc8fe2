"""Which rows of other resources point at a resource: ``RelatedMeta``'s source.

Computed once per :class:`~collabadmin.resources.resource.Registry` from the
resolved ``Field.relation`` of every resource (never per request), and
filtered per user in :mod:`collabadmin.resources.meta`.

A *reverse* link is a foreign key of another resource to this one (a
course's sessions: ``sessions.course_id``). A *through* link is a
many-to-many link through a link table: a resource with exactly two
foreign keys, both NOT NULL, to resources served here, and no other column
a new row must be given (``course_instructors(course_id, instructor_id)``); a course then lists its
instructors through it, and an instructor its courses. The link table also
stays a reverse link of both ends (its rows can carry data of their own).

Only single-column foreign keys to the target's single-column key count:
the UI follows a link with ``filter[field]=<key>``, which a composite key
cannot be written as.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collabadmin.resources.fields import Field
    from collabadmin.resources.resource import Resource

__all__ = ["Link", "links_by_target"]


@dataclass(frozen=True, slots=True)
class Link:
    """Rows of ``resource`` whose ``field`` holds the key of a record of the target.

    With ``through``: records of ``resource`` (the far end) linked through
    the link table ``through``, whose ``field`` holds the target's key and
    whose ``through_field`` holds the far record's key.
    """

    resource: str
    field: str
    label: str
    through: str | None = None
    through_field: str | None = None


@dataclass(frozen=True, slots=True)
class _ForeignKey:
    source: Resource
    field: Field
    target: Resource


def _foreign_keys(resource: Resource, by_name: dict[str, Resource]) -> list[_ForeignKey]:
    found = []
    for f in resource.fields.values():
        if f.relation is None:
            continue
        target = by_name.get(f.relation.resource)
        if target is None or len(target.pk) != 1:
            continue
        if not _references_key(f, target):
            continue
        found.append(_ForeignKey(resource, f, target))
    return found


def _references_key(f: Field, target: Resource) -> bool:
    """Whether ``f`` holds ``target``'s key alone (not a part of a composite foreign key).

    A relation declared on a column without a foreign key is taken at its word.
    """
    if f.column is None or not f.column.foreign_keys:
        return True
    return any(
        fk.constraint is not None
        and len(fk.constraint.columns) == 1
        and fk.column.name == target.pk[0]
        for fk in f.column.foreign_keys
    )


def _is_link_table(resource: Resource, keys: Sequence[_ForeignKey]) -> bool:
    """Two NOT NULL foreign keys, and nothing else a row must be given.

    A table whose rows need data of their own (a message's body between its
    sender and recipient) is a record of its own, not a link: it stays a
    reverse link of both ends only.
    """
    if len(keys) != 2 or any(k.field.nullable for k in keys):
        return False
    linking = {k.field.name for k in keys} | set(resource.pk)
    return not any(f.required for n, f in resource.fields.items() if n not in linking)


def links_by_target(resources: Iterable[Resource]) -> dict[str, tuple[Link, ...]]:
    """Every resource's reverse and through links, in the resources' order."""
    ordered = list(resources)
    by_name = {r.name: r for r in ordered}
    reverse: dict[str, list[_ForeignKey]] = {r.name: [] for r in ordered}
    through: dict[str, list[tuple[_ForeignKey, _ForeignKey]]] = {r.name: [] for r in ordered}
    for resource in ordered:
        keys = _foreign_keys(resource, by_name)
        for key in keys:
            reverse[key.target.name].append(key)
        if _is_link_table(resource, keys):
            near, far = keys
            through[near.target.name].append((near, far))
            through[far.target.name].append((far, near))
    links: dict[str, tuple[Link, ...]] = {}
    for name in by_name:
        # Two links from the same resource would read alike: name the field too.
        sources = [k.source.name for k in reverse[name]]
        fars = [far.target.name for _, far in through[name]]
        found = [
            Link(
                resource=k.source.name,
                field=k.field.name,
                label=_label(k.source.label_plural, k.field, sources.count(k.source.name) > 1),
            )
            for k in reverse[name]
        ]
        found += [
            Link(
                resource=far.target.name,
                field=near.field.name,
                label=_label(far.target.label_plural, far.field, fars.count(far.target.name) > 1),
                through=near.source.name,
                through_field=far.field.name,
            )
            for near, far in through[name]
        ]
        links[name] = tuple(found)
    return links


def _label(plural: str, field: Field, ambiguous: bool) -> str:
    return f"{plural} ({field.label or field.name})" if ambiguous else plural
