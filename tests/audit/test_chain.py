"""The change log is append-only, and its hash chain catches what slips past that."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ClientFor
from tests.helpers import ok, patch_record, problem


def _sql(conninfo: str, *statements: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


async def test_the_log_refuses_updates_and_deletes(client_for: ClientFor, conninfo: str) -> None:
    _sql(conninfo, "SELECT collabadmin_seal()")
    for statement in (
        "UPDATE collabadmin_change SET pk = 'x' WHERE id = 1",
        "DELETE FROM collabadmin_change WHERE id = 1",
        "TRUNCATE collabadmin_change",
        "DELETE FROM collabadmin_seal",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(conninfo, statement)


async def test_verify_is_green_after_ordinary_work(client_for: ClientFor) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    for version in (1, 2, 3):
        ok(
            await patch_record(
                editor, "courses", 1, {"description": f"v{version}"}, if_match=version
            )
        )
    result = ok(await auditor.get("/api/audit/verify"))
    assert result["ok"] is True
    assert result["first_bad"] is None
    assert result["checked"] >= 60 + 3  # the seed's inserts and the edits
    problem(await editor.get("/api/audit/verify"), 403)


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE collabadmin_change SET diff = '{}' WHERE id = {id}",
        "DELETE FROM collabadmin_change WHERE id = {id}",
        "UPDATE collabadmin_change SET actor_name = 'someone else' WHERE id = {id}",
    ],
)
async def test_an_entry_edited_or_deleted_behind_the_servers_back_is_named(
    client_for: ClientFor, conninfo: str, tamper: str
) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    ok(await patch_record(editor, "courses", 2, {"title": "Original"}, if_match=1))
    assert ok(await auditor.get("/api/audit/verify"))["ok"] is True
    with psycopg.connect(conninfo, autocommit=True) as conn:
        target = conn.execute(
            "SELECT id FROM collabadmin_change WHERE resource = 'courses' AND pk = '2'"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert target is not None
    # An owner can switch the guard off; the chain still notices.
    _sql(
        conninfo,
        "ALTER TABLE collabadmin_change DISABLE TRIGGER collabadmin_append_only",
        tamper.replace("{id}", str(target[0])),
        "ALTER TABLE collabadmin_change ENABLE TRIGGER collabadmin_append_only",
    )
    # The page's check starts where the last one ended, after this entry: it
    # costs what was written since, and only a full check reaches back.
    assert ok(await auditor.get("/api/audit/verify")) == {
        "ok": True, "checked": 0, "first_bad": None
    }  # fmt: skip
    result = ok(await auditor.get("/api/audit/verify", params={"full": "true"}))
    assert result == {"ok": False, "checked": result["checked"], "first_bad": target[0]}
    # Once found, the break is what every later check reports, until a full one passes.
    assert ok(await auditor.get("/api/audit/verify")) == {
        "ok": False, "checked": 0, "first_bad": target[0]
    }  # fmt: skip
    cli = subprocess.run(  # noqa: ASYNC221 - the CLI as a user runs it
        [sys.executable, "-m", "collabadmin.cli", "audit", "verify"],
        env={"DATABASE_URL": conninfo, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 2, cli.stderr
    assert f"BROKEN at entry {target[0]}" in cli.stdout


@pytest.mark.usefixtures("fresh_data")
def test_cli_verify_on_an_intact_log(conninfo: str) -> None:
    cli = subprocess.run(
        [sys.executable, "-m", "collabadmin.cli", "audit", "verify"],
        env={"DATABASE_URL": conninfo, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "chain intact" in cli.stdout


async def test_pruning_keeps_the_chain_verifiable(
    client_for: ClientFor, conninfo: str, tmp_path: Path
) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT collabadmin_seal()")
        cut_row = conn.execute(
            "SELECT now() AS cut, count(*) AS old FROM collabadmin_change"
        ).fetchone()
    assert cut_row is not None
    cut, old = cut_row
    for version in (1, 2):
        ok(
            await patch_record(
                editor, "courses", 3, {"description": f"kept {version}"}, if_match=version
            )
        )
    archive = tmp_path / "audit-archive.jsonl"
    cli = subprocess.run(  # noqa: ASYNC221, S603 - the CLI as a user runs it
        [sys.executable, "-m", "collabadmin.cli", "audit", "prune", "--before", cut.isoformat(),
         "--archive", str(archive)],
        env={"DATABASE_URL": conninfo, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert f"removed {old} entries" in cli.stdout
    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    assert len(lines) == old
    assert [line["seq"] for line in lines] == list(range(1, old + 1))
    remaining = ok(await auditor.get("/api/audit", params={"resource": "courses", "pk": "3"}))
    assert [c["diff"]["description"]["new"] for c in remaining["items"]] == ["kept 2", "kept 1"]
    result = ok(await auditor.get("/api/audit/verify"))
    assert result == {"ok": True, "checked": 2, "first_bad": None}
