"""Record actions declared in collabadmin.toml, over the adopted schema (fixture.sql).

A database served with no code gets buttons too: patch actions whose
condition is field equalities (``when``, ``unless``), checked against the
columns when the file is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from collabadmin.adopt.app import adopt, create_adopted_app
from collabadmin.config import ConfigError, apply_config, parse_config
from collabadmin.resources.reflection import adopt_database
from collabadmin.resources.resource import Resource
from collabadmin.settings import Settings
from tests.adopt.cli_database import FIXTURE_SCHEMAS
from tests.adopt.conftest import _token
from tests.conftest import anonymous_client
from tests.helpers import history, ok, problem, running

ACTIONS = """
[resources.ticket.actions.finish]
label = "Mark done"
confirm = "Mark this ticket done?"
when = { status = "in progress" }
patch = { status = "done", done = true }
not_applicable = "Only a ticket in progress can be marked done."

[resources.ticket.actions.reopen]
label = "Reopen"
unless = { status = "new" }
patch = { status = "new", done = false, due_on = 2027-01-31 }
"""


@pytest.fixture(scope="module")
def reflected(adopted_url: str) -> list[Resource]:
    return adopt_database(adopted_url, FIXTURE_SCHEMAS).resources


def ticket_actions(reflected: list[Resource], text: str) -> Resource:
    resources, _ = apply_config(reflected, parse_config(text))
    return next(r for r in resources if r.name == "ticket")


def test_actions_are_read_with_their_values_checked(reflected: list[Resource]) -> None:
    ticket = ticket_actions(reflected, ACTIONS)
    finish, reopen = ticket.record_actions
    assert (finish.name, finish.label, finish.confirm) == (
        "finish",
        "Mark done",
        "Mark this ticket done?",
    )
    assert finish.patch == {"status": "done", "done": True}
    # A TOML date is written as a client would send it.
    assert reopen.patch == {"status": "new", "done": False, "due_on": "2027-01-31"}
    assert finish.read_fields(ticket.table) == {"status"}
    assert reopen.read_fields(ticket.table) == {"status"}
    assert finish.not_applicable == "Only a ticket in progress can be marked done."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[resources.ticket.actions.finish]\nlabel = "Done"\nwhen = { stauts = "new" }\n'
            "patch = { done = true }\n",
            "resources.ticket.actions.finish.when: ticket serves no field 'stauts'",
        ),
        (
            '[resources.ticket.actions.finish]\nlabel = "Done"\nwhen = { status = "closed" }\n'
            "patch = { done = true }\n",
            "resources.ticket.actions.finish.when.status: Must be one of: new, in progress, done.",
        ),
        (
            '[resources.ticket.actions.finish]\nlabel = "Done"\npatch = { title_length = 3 }\n',
            "resources.ticket.actions.finish.patch.title_length: the field is read-only",
        ),
        (
            '[resources.ticket.actions.finish]\nlabel = "Done"\npatch = { due_on = "soon" }\n',
            "resources.ticket.actions.finish.patch.due_on: Must be a date (YYYY-MM-DD).",
        ),
        (
            '[resources.ticket.actions.finish]\nlabel = "Done"\npatch = {}\n',
            "resources.ticket.actions.finish.patch: the patch sets nothing",
        ),
        (
            '[resources.ticket.actions.finish]\nlabel = "Done"\nwhen = { attrs = "x" }\n'
            "patch = { done = true }\n",
            "resources.ticket.actions.finish.when.attrs: a json field cannot be compared",
        ),
        (
            '[resources.ticket.actions."Finish now"]\nlabel = "Done"\npatch = { done = true }\n',
            "resources.ticket.actions.Finish now: a name is 1 to 63 lower-case letters",
        ),
        (
            '[resources.open_ticket.actions.finish]\nlabel = "Done"\npatch = { status = "done" }\n',
            "resources.open_ticket.actions: open_ticket is read-only",
        ),
    ],
)
def test_mistakes_stop_start_up_naming_the_key(
    reflected: list[Resource], text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        apply_config(reflected, parse_config(text))
    assert str(caught.value).startswith(message), str(caught.value)


def test_unknown_keys_of_an_action_are_named_with_their_line() -> None:
    text = '[resources.ticket.actions.finish]\nlabel = "Done"\npatch = { done = true }\nwen = 1\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="c.toml")
    assert str(caught.value) == "c.toml, line 4: unknown key 'resources.ticket.actions.finish.wen'"


@pytest.fixture
async def admin_of_configured(adopted_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """``collabadmin serve --config`` (no ``--app``) with ACTIONS, as the admin user."""
    settings = Settings(database_url=adopted_url, pool_size=4)
    config = parse_config(ACTIONS)
    app = create_adopted_app(settings, adopt(settings, FIXTURE_SCHEMAS, config=config), config)
    token = await _token(adopted_url, "admin")
    async with running(app), anonymous_client(app, {"Authorization": f"Bearer {token}"}) as c:
        yield c


async def test_a_configured_action_runs_over_http_as_one_audited_change(
    admin_of_configured: httpx.AsyncClient,
) -> None:
    admin = admin_of_configured
    created = ok(await admin.post("/api/r/ticket", json={"title": "Act on me"}), 201)
    pk = created["ticket_id"]
    described = ok(await admin.options(f"/api/r/ticket/{pk}"))["record_actions"]
    assert [(a["name"], a["applies"]) for a in described] == [
        ("finish", False),
        ("reopen", False),
    ]
    refused = problem(
        await admin.post(f"/api/r/ticket/{pk}/actions/finish", headers={"If-Match": '"1"'}), 409
    )
    assert refused["detail"] == "Only a ticket in progress can be marked done."
    moved = await admin.patch(
        f"/api/r/ticket/{pk}", json={"status": "in progress"}, headers={"If-Match": '"1"'}
    )
    ok(moved)
    done = ok(
        await admin.post(f"/api/r/ticket/{pk}/actions/finish", headers={"X-Base-Version": "2"})
    )
    assert (done["status"], done["done"], done["_version"]) == ("done", True, 3)
    [latest, *_] = await history(admin, "ticket", pk)
    assert (latest["source"], set(latest["diff"])) == ("action", {"status", "done"})
    reopened = ok(
        await admin.post(f"/api/r/ticket/{pk}/actions/reopen", headers={"If-Match": '"3"'})
    )
    assert (reopened["status"], reopened["done"], reopened["due_on"]) == (
        "new",
        False,
        "2027-01-31",
    )
    schema = ok(await admin.get("/schema/openapi.json"))
    assert "/api/r/ticket/{pk}/actions/{name}" in schema["paths"]
    assert "/api/r/film/{pk}/actions/{name}" not in schema["paths"]  # film declares none
