"""Workflow *definitions*, kept apart from their runs.

A workflow has a subject resource and ordered steps. An automatic step is a
predicate over the subject and its related rows, written as SQL over the
subject's primary key (``:subject``) so that many runs can be evaluated in
one statement; a manual step is ticked by a person. Each step links to where
its work is done (resource, record and field).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Step", "StepLink", "Workflow"]


@dataclass(frozen=True, slots=True)
class StepLink:
    """Where a step's work is done; ``pk_sql`` finds the record from the subject."""

    resource: str
    field: str | None = None
    pk_sql: str | None = None  # None: the subject itself


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

    def __post_init__(self) -> None:
        keys = [s.key for s in self.steps]
        if len(keys) != len(set(keys)):
            raise ValueError(f"workflow {self.name}: step keys must be unique")

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
