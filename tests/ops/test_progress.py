"""CLI progress: a bar on a terminal, plain lines anywhere else."""

from __future__ import annotations

import io

from rich.console import Console

from collabadmin.ops.progress import progress


def test_plain_lines_when_stderr_is_not_a_terminal() -> None:
    out = io.StringIO()
    with progress(console=Console(file=io.StringIO(), force_terminal=False), out=out) as report:
        report.stage("seeding courses")
        report.stage("archiving entries", 3)
        report.advance()
        report.advance(2)
    assert out.getvalue().splitlines() == ["seeding courses...", "archiving entries (3)..."]


def test_a_bar_on_a_terminal() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    out = io.StringIO()
    with progress(console=console, out=out) as report:
        report.stage("archiving entries", 4)
        report.advance(4)
        report.stage("removing entries")
    drawn = screen.getvalue()
    assert "archiving entries" in drawn
    assert "4/4" in drawn
    assert "removing entries" in drawn
    assert out.getvalue() == ""  # no plain lines on top of the bar
