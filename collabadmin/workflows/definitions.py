"""Workflow *definitions*, kept apart from their runs.

A workflow has a subject resource and ordered steps. An automatic step is a
predicate over the subject and its related rows, written as a scalar SQL
query over the subject's primary key (``:subject``), so that the conditions
of many runs are evaluated in one statement (see
:mod:`collabadmin.workflows.evaluation`); a manual step is ticked by a
person. Each step links to where its work is done (resource, record and
field).

``watches`` names the tables whose changes can move a step, and the column
that holds the subject's key in each (the subject resource itself is always
watched, by its primary key): a change batch re-evaluates only the runs of
the subjects it touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Step", "StepLink", "Workflow"]


@dataclass(frozen=True, slots=True)
class StepLink:
    """Where a step's work is done.

    ``pk_sql`` finds the record from the subject (None: the subject itself,
    when ``resource`` is the subject's); ``filter_field`` names the column
    that relates records of ``resource`` to the subject, for a link to the
    filtered list when there is no record yet.
    """

    resource: str
    field: str | None = None
    pk_sql: str | None = None
    filter_field: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    title: str
    condition_sql: str | None = None  # None: a manual step
    link: StepLink | None = None

    @property
    def auto(self) -> bool:
        return self.condition_sql is not None


@dataclass(frozen=True, slots=True)
class Workflow:
    name: str
    title: str
    subject: str
    steps: tuple[Step, ...] = field(default_factory=tuple)
    watches: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = [s.key for s in self.steps]
        if len(keys) != len(set(keys)):
            raise ValueError(f"workflow {self.name}: step keys must be unique")

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "subject": self.subject,
            "steps": [
                {
                    "key": s.key,
                    "title": s.title,
                    "auto": s.auto,
                    "link": None
                    if s.link is None
                    else {"resource": s.link.resource, "field": s.link.field},
                }
                for s in self.steps
            ],
        }
