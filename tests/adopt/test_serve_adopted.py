"""Adoption by reflection, and ``collabadmin serve`` with no ``--app``, as a new user runs it."""

from __future__ import annotations

import subprocess

import httpx
from sqlalchemy import Column, Integer, MetaData, Table, Text

from collabadmin.adopt.app import DEFAULT_ROLES, adopted_policy
from collabadmin.db.engine import Actor
from collabadmin.resources.declare import resource_from_table
from collabadmin.resources.reflection import adopt_database
from tests.adopt.cli_database import CLI, cli_env, connect, odd_db, run_cli
from tests.servers import background_processes, is_running, log_reads, until_log_reads
from tests.test_cli import Running, _wait_healthy, free_port

__all__ = ["odd_db"]


def test_the_demo_database_is_adopted_without_collabadmins_own_tables(
    database_url: str,
) -> None:
    adoption = adopt_database(database_url)
    names = {r.name for r in adoption.resources}
    assert {"courses", "universities", "categories", "instructors", "sessions"} <= names
    assert not any(n.startswith("collabadmin_") or n == "alembic_version" for n in names)
    assert not any(n.startswith("collabadmin_") for n, _ in adoption.skipped)
    courses = next(r for r in adoption.resources if r.name == "courses")
    assert not courses.read_only
    assert courses.untracked == ""


def test_odd_shapes_are_served_or_skipped_with_a_reason_never_a_crash(odd_db: str) -> None:
    assert run_cli(odd_db, "db", "track", "--all").returncode == 0
    with connect(odd_db) as conn:
        conn.execute('CREATE TABLE "Sales"."Hidden" (id integer PRIMARY KEY)')
    assert run_cli(odd_db, "db", "track", "--all", "--schema", "Sales").returncode == 0
    with connect(odd_db) as conn:
        conn.execute('CREATE TABLE "Sales"."Later" (id integer PRIMARY KEY)')
    adoption = adopt_database(odd_db, ("public", "Sales"))
    served = {r.name: r for r in adoption.resources}
    skipped = dict(adoption.skipped)

    assert not served["film"].read_only
    assert served["tag"].pk == ("code",)  # its unique NOT NULL key
    assert served["Sales.Orders"].pk == ("OrderId",)
    assert served["film_ids"].read_only  # a view with a key
    assert not served["event"].read_only  # a partitioned table, served once as its parent
    assert skipped["event_low"] == "a partition of event: served as event"
    assert served["stamped"].untracked  # refused by db track: served read-only
    assert "collabadmin db track stamped" in served["stamped"].untracked
    # Outside the schema `db upgrade` granted, the server role reads what db track granted.
    assert served["Sales.Hidden"].untracked == ""
    assert skipped["Sales.Later"].startswith("collabadmin's server role may not read it")
    assert skipped["payment_2026"] == "a partition of payment: served as payment"
    assert skipped["remote_thing"] == "a foreign table: not served"
    # No key: a table is read-only with the reason. A view over one table
    # is keyed by that table's key.
    assert (served["loose"].pk, served["loose"].read_only) == ((), True)
    assert "no primary key" in (served["loose"].read_only_reason or "")
    assert served["film_titles"].pk == ("film_id",)
    # Composite keys are served under their whole key.
    assert len(served["film_actor"].pk) == 2
    assert len(served["payment"].pk) > 1
    assert not any(n.startswith("collabadmin_") for n in [*served, *skipped])
    adopted_policy().check(adoption.resources)


def test_serve_without_app_serves_the_database_as_it_is(odd_db: str) -> None:
    assert run_cli(odd_db, "db", "track", "film", "actor", "event").returncode == 0
    created = run_cli(
        odd_db, "user", "create", "alice", "--role", "admin", "--password-stdin", stdin="pw-alice\n"
    )
    assert created.returncode == 0, created.stderr
    assert (
        run_cli(
            odd_db,
            "user",
            "create",
            "vic",
            "--role",
            "viewer",
            "--password-stdin",
            stdin="pw-vic\n",
        ).returncode
        == 0
    )
    port = free_port()
    server = Running([*CLI, "serve", "--port", str(port)], cli_env(odd_db))
    try:
        server.wait_for(f"on http://127.0.0.1:{port}/")
        startup = "\n".join(server.seen)
        assert "serving film\n" in startup + "\n"
        assert "serving tag (read-only, not tracked)" in startup
        assert "skipped payment_2026: a partition of payment" in startup
        assert "serving loose (read-only, list-only: no key)" in startup
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            _wait_healthy(client)
            login = client.post(
                "/api/auth/login", json={"username": "alice", "password": "pw-alice"}
            )
            assert login.status_code == 200
            client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            films = client.get("/api/r/film").json()["items"]
            assert [f["title"] for f in films] == ["Academy Dinosaur", "Ace Goldfinger"]
            changed = client.patch(
                "/api/r/film/1", json={"rating": "R"}, headers={"If-Match": '"1"'}
            )
            assert changed.status_code == 200, changed.text
            assert changed.json()["_version"] == 2
            # Rows of every partition, through the parent.
            events = client.get("/api/r/event", params={"sort": "id"}).json()["items"]
            assert [e["what"] for e in events] == ["low", "high"]
            moved = client.patch(
                "/api/r/event/5000", json={"what": "higher"}, headers={"If-Match": '"1"'}
            )
            assert moved.status_code == 200, moved.text

            # A table that is not tracked: read-only, a 409 that says how to track it.
            tags = client.get("/api/r/tag").json()["items"]
            assert {t["code"] for t in tags} == {"a,b%c é", "plain"}
            refused = client.patch(
                "/api/r/tag/plain", json={"label": "x"}, headers={"If-Match": '"1"'}
            )
            assert refused.status_code == 409
            problem = refused.json()
            assert problem["track"] == "collabadmin db track tag"
            assert "collabadmin db track tag" in problem["detail"]
            created_tag = client.post("/api/r/tag", json={"code": "new", "label": "n"})
            assert created_tag.status_code == 409
            removed = client.delete("/api/r/tag/plain", headers={"If-Match": '"1"'})
            assert removed.status_code == 409
            described = client.options("/api/r/tag")
            assert described.status_code == 200
            writes = {"add", "change", "delete", "restore", "purge", "publish", "comment"}
            assert "view" in described.json()["actions"]
            assert not writes & set(described.json()["actions"])
            assert "PATCH" not in described.headers["Allow"]
            assert "POST" not in described.headers["Allow"]
            meta = {r["name"]: r for r in client.get("/api/meta").json()["resources"]}
            assert not writes & set(meta["tag"]["actions"])
            assert all(f["read_only"] for f in meta["tag"]["fields"])
            assert {"add", "change"} <= set(meta["film"]["actions"])

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as viewer:
            login = viewer.post("/api/auth/login", json={"username": "vic", "password": "pw-vic"})
            assert login.status_code == 200
            viewer.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            assert viewer.get("/api/r/actor").status_code == 200
            denied = viewer.patch("/api/r/actor/1", json={"name": "x"}, headers={"If-Match": '"1"'})
            assert denied.status_code == 403
    finally:
        assert server.stop() == 0, server.seen


def test_serve_without_app_seals_the_audit_chain_in_a_process_beside_it(odd_db: str) -> None:
    assert run_cli(odd_db, "db", "track", "film").returncode == 0
    port, metrics_port = free_port(), free_port()
    env = cli_env(
        odd_db,
        COLLABADMIN_METRICS_TOKEN="metrics-secret",
        COLLABADMIN_BACKGROUND_METRICS=str(metrics_port),
    )
    server = Running([*CLI, "serve", "--port", str(port)], env)
    try:
        server.wait_for(f"on http://127.0.0.1:{port}/")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            _wait_healthy(client)
            [background] = background_processes(server.process.pid)
            # The adopted app, built again by the background process from the same
            # environment, seals the chain; the server itself never does.
            at = f"http://127.0.0.1:{metrics_port}/metrics"
            assert until_log_reads(at, "metrics-secret", "sealer") > 0
            served = client.get("/metrics", headers={"Authorization": "Bearer metrics-secret"})
            assert log_reads(served.text, "sealer") == 0
            assert log_reads(served.text, "hub") is not None
    finally:
        assert server.stop() == 0, server.seen
    assert not is_running(background)


def test_default_roles_of_an_adopted_database() -> None:
    assert set(DEFAULT_ROLES) >= {"admin", "editor", "viewer"}
    policy = adopted_policy()
    assert policy.superuser_role == "admin"
    assert set(policy.roles) >= {"editor", "viewer"}


def test_serve_without_app_or_database_url_says_what_to_do() -> None:
    env = cli_env("")
    del env["DATABASE_URL"]
    result = subprocess.run(  # noqa: S603
        [*CLI, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "set DATABASE_URL" in result.stderr


def test_a_declared_resource_over_a_table_without_version_is_read_only_with_the_reason() -> None:
    table = Table("legacy", MetaData(), Column("id", Integer, primary_key=True), Column("t", Text))
    resource = resource_from_table(table)
    assert resource.read_only
    assert "collabadmin db track legacy" in resource.untracked
    assert not adopted_policy().allows(_admin(), resource, "change")
    assert adopted_policy().allows(_admin(), resource, "view")


def _admin() -> Actor:
    return Actor(id=1, name="a", username="a", roles=frozenset({"admin"}))
