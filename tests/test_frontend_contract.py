"""The frontend's typed client is generated from the committed OpenAPI document; keep it current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_committed_openapi_document_matches_the_server() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "collabadmin.cli", "openapi"],
        capture_output=True,
        text=True,
        check=True,
    )
    committed = json.loads((ROOT / "frontend" / "openapi.json").read_text())
    assert json.loads(result.stdout) == committed, (
        "regenerate: collabadmin openapi > frontend/openapi.json"
        " && (cd frontend && npm run gen:api)"
    )


def test_the_bundle_is_served_from_the_package() -> None:
    index = ROOT / "collabadmin" / "static" / "index.html"
    assert index.exists(), "build the frontend: (cd frontend && npm ci && npm run build)"
    assert "/assets/" in index.read_text()
