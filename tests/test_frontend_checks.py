"""The frontend's own checks run with the suite: ESLint (hooks rules), TypeScript, Vitest,
and the generated API types being current.

They need ``frontend/node_modules`` (``npm ci`` in frontend/, which CI does
first). Without it, a local run skips them and says why; on CI (``CI`` set)
a missing install is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"

CHECKS = {
    "lint": ["npm", "run", "lint"],
    "typecheck": ["npm", "run", "typecheck"],
    "unit": ["npm", "test", "--", "--run"],
}


def _ready() -> None:
    installed = (FRONTEND / "node_modules").is_dir() and shutil.which("npm") is not None
    if installed:
        return
    if os.environ.get("CI"):
        pytest.fail("CI runs the frontend checks, but frontend/node_modules or npm is missing")
    pytest.skip("frontend/node_modules is absent: run `npm ci` in frontend/ to check the frontend")


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_frontend_check_passes(check: str) -> None:
    _ready()
    result = subprocess.run(  # noqa: S603
        CHECKS[check],
        cwd=FRONTEND,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "FORCE_COLOR": "0", "NO_COLOR": "1"},
    )
    output = f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"npm {check} failed:\n{output}"


def test_generated_client_schema_is_current(tmp_path: Path) -> None:
    """src/api/schema.d.ts is exactly what openapi-typescript makes of the committed openapi.json.

    tests/test_frontend_contract.py holds openapi.json to the server; this
    holds the generated types to openapi.json, so a change to the API that is
    not regenerated (``npm run gen:api``) fails here, as a stale bundle does.
    """
    _ready()
    fresh = tmp_path / "schema.d.ts"
    result = subprocess.run(  # noqa: S603
        ["npx", "--no-install", "openapi-typescript", "./openapi.json", "-o", str(fresh)],  # noqa: S607
        cwd=FRONTEND,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FORCE_COLOR": "0", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, f"openapi-typescript failed:\n{result.stdout}\n{result.stderr}"
    committed = (FRONTEND / "src" / "api" / "schema.d.ts").read_text(encoding="utf-8")
    assert fresh.read_text(encoding="utf-8") == committed, (
        "frontend/src/api/schema.d.ts is stale: run `npm run gen:api` in frontend/ and commit it"
    )


def test_frontend_does_not_cast_past_the_generated_types() -> None:
    """No hand-written copy of the contract, and no ``as never`` to get around the generated one."""
    source = FRONTEND / "src"
    assert not (source / "api" / "types.ts").exists()
    casts = [
        f"{path.relative_to(FRONTEND)}:{number}"
        for path in sorted(source.rglob("*.ts*"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "as never" in line
    ]
    assert not casts, casts
