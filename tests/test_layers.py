"""The layering runs one way: checked with import-linter on every run of the suite.

The contract is in pyproject.toml (``[tool.importlinter]``). A module that
imports from a layer above its own, or a new top-level module left out of
the list, fails this test.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = (
    "import sys; from importlinter.cli import lint_imports;"
    " sys.exit(lint_imports(no_cache=True, no_logo=True))"
)


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", LINT], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_collabadmin_imports_only_downwards() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_backward_import_breaks_the_contract(tmp_path: Path) -> None:
    """The same kind of contract fails on an import from a higher layer."""
    package = tmp_path / "layered"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("from layered import high  # backwards\n")
    (package / "high.py").write_text("from layered import low\n")
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.importlinter]
            root_package = "layered"

            [[tool.importlinter.contracts]]
            name = "layers"
            type = "layers"
            containers = ["layered"]
            layers = ["high", "low"]
            """
        )
    )
    result = _lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "layered.low -> layered.high" in result.stdout
