"""The change log is append-only, and its hash chain catches what slips past that."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar import Litestar

from collabadmin.audit.chain import FullCheck
from collabadmin.context import services_of
from collabadmin.db.engine import Database
from tests.conftest import Client, ClientFor
from tests.helpers import ok, patch_record, problem


def _sql(conninfo: str, *statements: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


async def test_the_log_refuses_updates_and_deletes(client_for: ClientFor, conninfo: str) -> None:
    _sql(conninfo, "SELECT collabadmin.collabadmin_seal()")
    for statement in (
        "UPDATE collabadmin.collabadmin_change SET pk = 'x' WHERE id = 1",
        "DELETE FROM collabadmin.collabadmin_change WHERE id = 1",
        "TRUNCATE collabadmin.collabadmin_change",
        "DELETE FROM collabadmin.collabadmin_seal",
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
        "UPDATE collabadmin.collabadmin_change SET diff = '{}' WHERE id = {id}",
        "DELETE FROM collabadmin.collabadmin_change WHERE id = {id}",
        "UPDATE collabadmin.collabadmin_change SET actor_name = 'someone else' WHERE id = {id}",
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
            "SELECT id FROM collabadmin.collabadmin_change WHERE resource = 'courses' AND pk = '2'"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert target is not None
    # An owner can switch the guard off; the chain still notices.
    _sql(
        conninfo,
        "ALTER TABLE collabadmin.collabadmin_change DISABLE TRIGGER collabadmin_append_only",
        tamper.replace("{id}", str(target[0])),
        "ALTER TABLE collabadmin.collabadmin_change ENABLE TRIGGER collabadmin_append_only",
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
        conn.execute("SELECT collabadmin.collabadmin_seal()")
        cut_row = conn.execute(
            "SELECT now() AS cut, count(*) AS old FROM collabadmin.collabadmin_change"
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


def _cli(conninfo: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the CLI as a user runs it
        [sys.executable, "-m", "collabadmin.cli", *args],
        env={"DATABASE_URL": conninfo, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


async def test_verify_checks_only_what_was_sealed_since_the_last_check(
    client_for: ClientFor,
) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    first = ok(await auditor.get("/api/audit/verify"))
    assert first["ok"] is True
    assert first["checked"] >= 60
    for version in (1, 2):
        ok(
            await patch_record(
                editor, "courses", 8, {"description": f"v{version}"}, if_match=version
            )
        )
    assert ok(await auditor.get("/api/audit/verify")) == {
        "ok": True, "checked": 2, "first_bad": None
    }  # fmt: skip
    assert ok(await auditor.get("/api/audit/verify"))["checked"] == 0
    everything = ok(await auditor.get("/api/audit/verify", params={"full": "true"}))
    assert everything == {"ok": True, "checked": first["checked"] + 2, "first_bad": None}
    problem(await auditor.get("/api/audit/verify", params={"full": "yes"}), 400)
    problem(await auditor.get("/api/audit/verify", params={"from": "1"}), 400)


async def test_an_entry_tampered_with_after_the_last_check_is_found_incrementally(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    assert ok(await auditor.get("/api/audit/verify"))["ok"] is True
    ok(await patch_record(editor, "courses", 9, {"title": "New"}, if_match=1))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT collabadmin.collabadmin_seal()")
        target = conn.execute("SELECT max(id) FROM collabadmin.collabadmin_change").fetchone()
        assert target is not None
        conn.execute(
            "ALTER TABLE collabadmin.collabadmin_change DISABLE TRIGGER collabadmin_append_only"
        )
        conn.execute(
            "UPDATE collabadmin.collabadmin_change SET actor_name = 'x' WHERE id = %s", target
        )
        conn.execute(
            "ALTER TABLE collabadmin.collabadmin_change ENABLE TRIGGER collabadmin_append_only"
        )
    assert ok(await auditor.get("/api/audit/verify")) == {
        "ok": False, "checked": 1, "first_bad": target[0]
    }  # fmt: skip


async def test_the_head_is_the_last_seal(client_for: ClientFor, conninfo: str) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    ok(await patch_record(editor, "courses", 10, {"title": "Headline"}, if_match=1))
    head = ok(await auditor.get("/api/audit/head"))
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT s.seq, s.change_id, s.hash, c.at FROM collabadmin.collabadmin_seal s"
            " JOIN collabadmin.collabadmin_change c ON c.id = s.change_id ORDER BY s.seq DESC"
            " LIMIT 1"
        ).fetchone()
    assert row is not None
    assert (head["seq"], head["id"], head["hash"]) == (row[0], row[1], row[2])
    assert dt.datetime.fromisoformat(head["at"]) == row[3]
    # Sealed on demand: the edit just made is the head.
    assert (
        head["id"] == ok(await auditor.get("/api/audit", params={"limit": "1"}))["items"][0]["id"]
    )
    problem(await editor.get("/api/audit/head"), 403)


async def _keep_head(auditor: Client, anchors: Path) -> dict[str, Any]:
    head: dict[str, Any] = ok(await auditor.get("/api/audit/head"))
    with anchors.open("a") as kept:
        kept.write(json.dumps(head) + "\n")
    return head


async def test_kept_heads_catch_a_rewrite_that_was_resealed(
    client_for: ClientFor, conninfo: str, tmp_path: Path
) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    anchors = tmp_path / "heads.jsonl"
    ok(await patch_record(editor, "courses", 11, {"title": "Truth"}, if_match=1))
    first = await _keep_head(auditor, anchors)
    ok(await patch_record(editor, "courses", 12, {"title": "Later"}, if_match=1))
    second = await _keep_head(auditor, anchors)
    intact = _cli(conninfo, "audit", "verify", "--anchors", str(anchors))
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "kept heads: 2 matched; all match" in intact.stdout
    # The owner rewrites an entry and recomputes every seal: the chain is
    # consistent again, so a plain check passes; the kept heads do not.
    _sql(
        conninfo,
        "ALTER TABLE collabadmin.collabadmin_change DISABLE TRIGGER USER",
        "ALTER TABLE collabadmin.collabadmin_seal DISABLE TRIGGER USER",
        'UPDATE collabadmin.collabadmin_change SET diff = \'{"title": {"old": "x", "new": "Lie"}}\''
        " WHERE resource = 'courses' AND pk = '11' AND op = 'update'",
        "DELETE FROM collabadmin.collabadmin_seal",
        "UPDATE collabadmin.collabadmin_seal_state SET snapshot = '1:1:', last_seq = 0,"
        " last_hash = repeat('0', 64), anchor_seq = 0, anchor_hash = repeat('0', 64)",
        "UPDATE collabadmin.collabadmin_verify_state SET verified_seq = 0, verified_hash ="
        " repeat('0', 64),"
        " verified_change_id = 0, first_bad = NULL",
        "SELECT collabadmin.collabadmin_seal()",
        "ALTER TABLE collabadmin.collabadmin_change ENABLE TRIGGER USER",
        "ALTER TABLE collabadmin.collabadmin_seal ENABLE TRIGGER USER",
    )
    assert _cli(conninfo, "audit", "verify").returncode == 0
    caught = _cli(conninfo, "audit", "verify", "--anchors", str(anchors))
    assert caught.returncode == 2, caught.stdout + caught.stderr
    assert (
        f"head on line 1: seal {first['seq']} has another hash: history was rewritten"
        in caught.stdout
    )
    assert f"head on line 2: seal {second['seq']} has another hash" in caught.stdout


async def test_kept_heads_catch_a_truncated_log(
    client_for: ClientFor, conninfo: str, tmp_path: Path
) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    anchors = tmp_path / "heads.jsonl"
    ok(await patch_record(editor, "courses", 13, {"title": "Kept"}, if_match=1))
    kept = await _keep_head(auditor, anchors)
    # The owner cuts off the newest entry and winds the chain back one seal.
    _sql(
        conninfo,
        "ALTER TABLE collabadmin.collabadmin_change DISABLE TRIGGER USER",
        "ALTER TABLE collabadmin.collabadmin_seal DISABLE TRIGGER USER",
        f"DELETE FROM collabadmin.collabadmin_change WHERE id = {kept['id']}",
        f"DELETE FROM collabadmin.collabadmin_seal WHERE seq = {kept['seq']}",
        "UPDATE collabadmin.collabadmin_seal_state SET last_seq = s.seq, last_hash = s.hash"
        f" FROM collabadmin.collabadmin_seal s WHERE s.seq = {kept['seq'] - 1}",
        "UPDATE collabadmin.collabadmin_verify_state SET verified_seq = 0, verified_hash ="
        " repeat('0', 64),"
        " verified_change_id = 0, first_bad = NULL",
        "ALTER TABLE collabadmin.collabadmin_change ENABLE TRIGGER USER",
        "ALTER TABLE collabadmin.collabadmin_seal ENABLE TRIGGER USER",
    )
    assert _cli(conninfo, "audit", "verify").returncode == 0
    caught = _cli(conninfo, "audit", "verify", "--anchors", str(anchors))
    assert caught.returncode == 2
    assert f"seal {kept['seq']} is past the end of the chain" in caught.stdout


async def test_a_truncated_tail_is_reported_once_a_point_past_it_was_verified(
    client_for: ClientFor, conninfo: str
) -> None:
    editor, auditor = await client_for("editor"), await client_for("auditor")
    ok(await patch_record(editor, "courses", 14, {"title": "Gone soon"}, if_match=1))
    assert ok(await auditor.get("/api/audit/verify"))["ok"] is True
    _sql(
        conninfo,
        "ALTER TABLE collabadmin.collabadmin_seal DISABLE TRIGGER USER",
        "DELETE FROM collabadmin.collabadmin_seal WHERE seq = (SELECT last_seq FROM"
        " collabadmin.collabadmin_seal_state)",
        "UPDATE collabadmin.collabadmin_seal_state SET last_seq = last_seq - 1,"
        " last_hash = (SELECT hash FROM collabadmin.collabadmin_seal ORDER BY seq DESC LIMIT 1)",
        "ALTER TABLE collabadmin.collabadmin_seal ENABLE TRIGGER USER",
    )
    for params in ({}, {"full": "true"}):
        assert ok(await auditor.get("/api/audit/verify", params=params)) == {
            "ok": False, "checked": 0, "first_bad": -1
        }  # fmt: skip


def test_anchors_file_errors_are_one_line(conninfo: str, tmp_path: Path) -> None:
    bad = tmp_path / "heads.jsonl"
    bad.write_text('{"hash": "abc"}\n')
    result = _cli(conninfo, "audit", "verify", "--anchors", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip() == f"collabadmin: {bad}: line 1: a head needs its seq or its id"
    missing = _cli(conninfo, "audit", "verify", "--anchors", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr


@pytest.mark.usefixtures("fresh_data")
def test_pruning_needs_the_owner(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        role = conn.execute("SELECT collabadmin.collabadmin_app_role()").fetchone()
        database = conn.execute("SELECT current_database()").fetchone()
    assert role is not None
    assert database is not None
    login = f"{database[0]}_pruner"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE "{role[0]}"')
    try:
        url = conninfo.replace("postgres@", f"{login}@", 1)
        result = _cli(url, "audit", "prune", "--before", "2999-01-01")
        assert result.returncode == 1
        assert "pruning needs the database's owner" in result.stderr
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP ROLE "{login}"')


@pytest.mark.usefixtures("fresh_data")
def test_a_check_in_progress_keeps_pruning_out_but_not_sealing(conninfo: str) -> None:
    with (
        psycopg.connect(conninfo) as checking,
        psycopg.connect(conninfo, autocommit=True) as other,
    ):
        other.execute("SELECT collabadmin.collabadmin_seal()")
        # A verification still in its transaction holds what it read.
        checking.execute("SELECT * FROM collabadmin.collabadmin_verify(true)")
        other.execute("SET lock_timeout = '200ms'")
        other.execute("UPDATE courses SET title = 'sealed meanwhile' WHERE id = 15")
        sealed = other.execute("SELECT collabadmin.collabadmin_seal()").fetchone()
        assert sealed == (1,)
        with pytest.raises(psycopg.errors.LockNotAvailable), other.transaction():
            other.execute("SELECT collabadmin.collabadmin_prune(1)")
        checking.rollback()
        with other.transaction():
            assert other.execute("SELECT collabadmin.collabadmin_prune(1)").fetchone() == (1,)


async def test_full_checks_asked_for_at_once_share_one_run(
    client_for: ClientFor, app: Litestar, conninfo: str
) -> None:
    auditor = await client_for("auditor")
    check = FullCheck.of(services_of(app).get(Database))
    started = check.started
    # Hold the chain's state as a prune would, so the first check waits in
    # the database while the others ask.
    with psycopg.connect(conninfo) as pruning:
        pruning.execute("SELECT 1 FROM collabadmin.collabadmin_seal_state WHERE id = 1 FOR UPDATE")
        asked = [
            asyncio.create_task(auditor.get("/api/audit/verify", params={"full": "true"}))
            for _ in range(3)
        ]
        deadline = time.monotonic() + 10
        while check.waiting < 3:
            assert time.monotonic() < deadline, "the requests never reached the check"
            await asyncio.sleep(0.01)  # sleep-ok: polling the requests' progress, bounded
        pruning.rollback()
    answers = [ok(await request) for request in asked]
    assert check.started == started + 1
    assert answers[0]["ok"] is True
    assert answers == [answers[0]] * 3


@pytest.mark.parametrize(
    ("sealing_zone", "verifying_zone"), [("UTC", "Asia/Tokyo"), ("America/Sao_Paulo", "UTC")]
)
async def test_the_chain_verifies_whatever_time_zone_seals_or_checks_it(
    client_for: ClientFor, conninfo: str, sealing_zone: str, verifying_zone: str
) -> None:
    editor = await client_for("editor")
    ok(await patch_record(editor, "courses", 5, {"description": "sealed"}, if_match=1))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT set_config('TimeZone', %s, false)", [sealing_zone])
        conn.execute("SELECT collabadmin.collabadmin_seal()")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT set_config('TimeZone', %s, false)", [verifying_zone])
        row = conn.execute(
            "SELECT checked, first_bad FROM collabadmin.collabadmin_verify(true)"
        ).fetchone()
    assert row is not None
    checked, first_bad = row
    assert checked >= 61
    assert first_bad is None
