"""Progress of long CLI work: a rich bar on a terminal, plain lines otherwise.

A bar only helps a person watching; in a log file or a CI job its redraws
are noise, so :func:`progress` draws one only when stderr is a terminal
(where rich also draws it) and otherwise prints one plain line per stage
to stdout, as the commands always did. The work reports through a
:class:`Reporter` and never knows which it got.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["Reporter", "progress"]


class Reporter(Protocol):
    def stage(self, description: str, total: int | None = None) -> None:
        """Start a stage of ``total`` steps (None: of unknown length)."""

    def advance(self, steps: int = 1) -> None:
        """``steps`` more steps of the current stage are done."""


class _Lines:
    """One plain line per stage; steps are not printed."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def stage(self, description: str, total: int | None = None) -> None:
        suffix = f" ({total})" if total is not None else ""
        print(f"{description}{suffix}...", file=self.out, flush=True)

    def advance(self, steps: int = 1) -> None:
        return None


class _Bar:
    """A rich bar (or spinner, for stages of unknown length) per stage."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task: TaskID | None = None

    def stage(self, description: str, total: int | None = None) -> None:
        if self.task is not None:
            finished = self.bar.tasks[-1]
            self.bar.update(self.task, completed=finished.total or 1, total=finished.total or 1)
        self.task = self.bar.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, steps)


@contextmanager
def progress(*, console: Console | None = None, out: IO[str] | None = None) -> Iterator[Reporter]:
    """A reporter for the duration of the block (bars are cleared of spinners at the end)."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield _Lines(out or sys.stdout)
        return
    bar = Progress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    reporter = _Bar(bar)
    with bar:
        yield reporter
        if reporter.task is not None:
            last = bar.tasks[-1]
            bar.update(reporter.task, completed=last.total or 1, total=last.total or 1)
