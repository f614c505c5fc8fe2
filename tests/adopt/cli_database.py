"""A database of odd shapes nobody on the project wrote, adopted through the CLI alone.

Helpers shared by ``test_cli_track.py``, ``test_serve_adopted.py`` and the
fixture schema's conftests (tests/adopt, tests/e2e): a fresh database on the
test server (never the session's demo database), the ``collabadmin`` command
run as a user would, and plain psycopg connections standing in for psql and
the application's other clients.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from collabadmin.db.engine import libpq_url
from tests.conftest import _server_database

CLI = [sys.executable, "-m", "collabadmin.cli"]

# Tables with every key shape, an application trigger of its own, a
# partitioned table, views with and without a key, a second schema with a
# quoted mixed-case name, and tables that must be refused.
ODD_SCHEMA = r"""
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SCHEMA "Sales";

CREATE TABLE film (
    film_id     serial PRIMARY KEY,
    title       text NOT NULL,
    rating      text,
    last_update timestamptz NOT NULL DEFAULT now(),
    touches     integer NOT NULL DEFAULT 0
);
-- The application's own trigger: it counts every UPDATE that reaches the row.
CREATE FUNCTION film_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.touches := OLD.touches + 1;
    NEW.last_update := now();
    RETURN NEW;
END $$;
CREATE TRIGGER film_touch BEFORE UPDATE ON film FOR EACH ROW EXECUTE FUNCTION film_touch();
CREATE TABLE actor (actor_id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE film_actor (
    film_id  integer NOT NULL REFERENCES film,
    actor_id integer NOT NULL REFERENCES actor,
    role     text,
    PRIMARY KEY (film_id, actor_id)
);
CREATE TABLE tag (code text NOT NULL UNIQUE, label text);           -- no primary key
CREATE TABLE loose (a integer, b text);                              -- no key at all
CREATE TABLE stamped (id integer PRIMARY KEY, version text);         -- a version of its own
CREATE TABLE payment (
    id     integer NOT NULL,
    paid   date NOT NULL,
    amount numeric(8, 2) NOT NULL,
    PRIMARY KEY (id, paid)
) PARTITION BY RANGE (paid);
CREATE TABLE payment_2026 PARTITION OF payment FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE event (id bigint PRIMARY KEY, what text NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE event_low PARTITION OF event FOR VALUES FROM (0) TO (1000);
CREATE TABLE event_high PARTITION OF event FOR VALUES FROM (1000) TO (MAXVALUE);
CREATE VIEW film_titles AS SELECT film_id, title FROM film;
CREATE VIEW film_ids AS SELECT film_id AS id, title FROM film;
CREATE SERVER elsewhere FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'nowhere');
CREATE FOREIGN TABLE remote_thing (id integer) SERVER elsewhere;
CREATE TABLE "Sales"."Orders" ("OrderId" integer PRIMARY KEY, "Note" text);

INSERT INTO film (title, rating) VALUES ('Academy Dinosaur', 'PG'), ('Ace Goldfinger', 'G');
INSERT INTO actor (name) VALUES ('Penelope'), ('Nick');
INSERT INTO film_actor VALUES (1, 1, 'lead'), (1, 2, NULL), (2, 2, 'lead');
INSERT INTO tag VALUES ('a,b%c é', 'odd'), ('plain', 'plain');
INSERT INTO payment VALUES (1, '2026-02-01', 3.50), (2, '2026-03-01', 4.00);
INSERT INTO "Sales"."Orders" VALUES (1, 'first');
INSERT INTO event VALUES (1, 'low'), (5000, 'high');
"""


def cli_env(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env.update(extra)
    return env


def run_cli(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [*CLI, *args],
        env=cli_env(url),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def connect(url: str) -> psycopg.Connection[Any]:
    """A client of the application's own, as psql would be (autocommit)."""
    return psycopg.connect(libpq_url(url), autocommit=True)


@pytest.fixture
def odd_db(database_url: str) -> Iterator[str]:
    """A fresh database with the odd schema, after ``collabadmin db upgrade`` (not tracked).

    Created on the tests' server, the one ``DATABASE_URL`` names or the embedded one.
    """
    for url in _server_database(database_url):
        upgraded = run_cli(url, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        with connect(url) as conn:
            conn.execute(ODD_SCHEMA)
        yield url


FIXTURE = Path(__file__).with_name("fixture.sql")
# The schemas of fixture.sql, as ``collabadmin serve --schema public --schema archive`` serves them.
FIXTURE_SCHEMAS = ("public", "archive")


def _must(url: str, *args: str, stdin: str | None = None) -> str:
    done = run_cli(url, *args, stdin=stdin)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def adopt_fixture(url: str, *, admin_password: str | None = None) -> None:
    """Prepare ``url`` (an empty database) as a user adopting fixture.sql would.

    ``collabadmin db upgrade``, the schema loaded as psql would load it, then
    ``collabadmin db track --all`` for each of its schemas and an ``admin``
    user made with ``collabadmin user create``: nothing but the command line
    (and no tracking statement run by the tests themselves).
    """
    _must(url, "db", "upgrade")
    with connect(url) as conn:
        conn.execute(FIXTURE.read_text())  # a literal file
    for schema in FIXTURE_SCHEMAS:
        _must(url, "db", "track", "--all", "--schema", schema)
    if admin_password is None:
        _must(url, "user", "create", "admin", "--role", "admin")
    else:
        _must(
            url,
            *("user", "create", "admin", "--role", "admin", "--password-stdin"),
            stdin=f"{admin_password}\n",
        )
