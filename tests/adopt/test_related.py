"""Related records and live tables of an adopted database: read from its foreign keys."""

from __future__ import annotations

from typing import Any

from collabadmin.adopt.app import adopted_policy
from collabadmin.config.apply import apply_config
from collabadmin.config.schema import parse_config
from collabadmin.db.engine import Actor
from collabadmin.resources.meta import resource_meta
from collabadmin.resources.reflection import adopt_database
from collabadmin.resources.resource import Registry
from tests.adopt.cli_database import odd_db, run_cli

__all__ = ["odd_db"]

VIEWER = Actor(id=1, name="Vic", username="vic", roles=frozenset({"viewer"}))


def test_a_link_table_of_an_adopted_database_relates_both_ends(odd_db: str) -> None:
    tracked = run_cli(odd_db, "db", "track", "film", "actor", "film_actor")
    assert tracked.returncode == 0, tracked.stderr
    config = parse_config('[resources.film]\ndisplay = "rating"\n')
    resources, _ = apply_config(adopt_database(odd_db).resources, config)
    registry = Registry(resources)
    policy = adopted_policy()

    def meta(name: str) -> dict[str, Any]:
        return resource_meta(policy, VIEWER, registry.get(name), registry)

    film, actor = meta("film"), meta("actor")
    # film_actor (film_id, actor_id, role): a link table with a composite key.
    assert film["related"] == [
        {"resource": "film_actor", "field": "film_id", "label": "Film actors"},
        {
            "resource": "actor",
            "field": "film_id",
            "label": "Actors",
            "through": {"resource": "film_actor", "field": "actor_id"},
        },
    ]
    assert actor["related"] == [
        {"resource": "film_actor", "field": "actor_id", "label": "Film actors"},
        {
            "resource": "film",
            "field": "actor_id",
            "label": "Films",
            "through": {"resource": "film_actor", "field": "film_id"},
        },
    ]
    # The config file's display names a film, in its meta and in links to it.
    assert (film["display"], actor["display"]) == ("rating", "name")
    link_fields = {f["name"]: f for f in meta("film_actor")["fields"]}
    assert link_fields["film_id"]["relation"] == {"resource": "film", "display": "rating"}
    # Live: tracked tables only; not an untracked table, not a view.
    assert (film["live"], actor["live"], meta("film_actor")["live"]) == (True, True, True)
    assert meta("tag")["live"] is False  # not tracked: read-only
    assert meta("film_titles")["live"] is False  # a view
    assert meta("film_titles")["related"] == []
