"""Broker mode's settings: read from the environment, refused clearly when wrong."""

from __future__ import annotations

import nats
import pytest

from collabadmin.demo.app import create_demo_app
from collabadmin.hub.broker.link import BrokerError, Link, default_stream_name
from collabadmin.settings import Settings


def test_broker_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "COLLABADMIN_BROKER": "nats://user:secret@nats-1:4222,nats://nats-2:4222",
            "COLLABADMIN_BROKER_STREAM": "SHOP",
            "COLLABADMIN_BROKER_MAX_AGE": "3600",
        }
    )
    assert settings.broker == "nats://user:secret@nats-1:4222,nats://nats-2:4222"
    assert (settings.broker_stream, settings.broker_max_age) == ("SHOP", 3600.0)
    assert "secret" not in repr(settings)  # the URL may carry NATS's password
    assert Settings.from_env({}).broker is None  # off by default


def test_the_default_stream_is_named_after_the_database() -> None:
    assert default_stream_name("shop") == "COLLABADMIN_shop"
    assert default_stream_name("my.db name/x") == "COLLABADMIN_my_db_name_x"


@pytest.mark.parametrize(
    ("url", "stream"),
    [
        ("http://nats:4222", "S"),
        ("", "S"),
        ("nats://nats:4222", "has.a.dot"),
        ("nats://nats:4222", "a>b"),
        ("nats://nats:4222", "x" * 201),
    ],
)
def test_a_wrong_broker_url_or_stream_is_refused(url: str, stream: str) -> None:
    with pytest.raises(BrokerError):
        Link(url, stream, "db", max_age=60)


def test_an_app_with_a_wrong_broker_url_is_not_built(database_url: str) -> None:
    settings = Settings(database_url=database_url, broker="redis://cache:6379")
    with pytest.raises(ValueError, match="nats://"):
        create_demo_app(settings)


async def test_a_stream_made_by_an_operator_is_adopted_and_another_databases_refused(
    nats_url: str, stream: str
) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[f"{stream}.changes.>"], max_msgs=1_000_000)
        link = Link(nats_url, stream, "shop", max_age=600)
        await link.connect()
        await link.close()
        adopted = (await js.stream_info(stream)).config
        assert adopted.description == "collabadmin change batches of database shop"
        assert (adopted.max_age, adopted.max_msgs) == (600, 1_000_000)  # theirs kept
        other = Link(nats_url, stream, "warehouse", max_age=600)
        with pytest.raises(BrokerError, match="another database"):
            await other.connect()
        await other.close()
    finally:
        await nc.close()
