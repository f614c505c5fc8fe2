"""A websocket fuzzer: random and invalid frames and sequences, and the socket always answers.

Each frame is followed by a ping; everything the server sends until the pong
must be a well-formed frame of a known type, and the socket must stay open
(except for frames over 1 MiB, which close it with 1009 by design and are
fuzzed separately in the hub tests). Seeded, so a failure reproduces.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import httpx

from tests.conftest import Served
from tests.fuzz.conftest import SocketFor

SEED = 20261123
FRAMES = 400
KNOWN = {
    "subscribed", "unsubscribed", "change", "presence", "resync", "error", "pong", "draft",
    "workflow",
}  # fmt: skip
TYPES = ["subscribe", "unsubscribe", "presence", "ping", "", "SUBSCRIBE", "change", None, 7]
TOPICS = [
    "r/courses", "r/courses/1", "r/courses/999999", "r/nope", "r/courses/../../x", "drafts",
    "workflow-runs/1", "workflow-runs/0", "workflow-runs/-1", "audit", "", "r/", "r//", "/",
    "r/courses/1/2", "x" * 300, "r/courses/\u0000", "r/cöurses", 42, None, ["r/courses"],
]  # fmt: skip


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, 1.5e308, -0.0, 10**30])
    if kind == 3:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(0, 40)))
    if kind == 4:
        return rng.choice(TOPICS)
    if kind == 5:
        return rng.choice(["viewing", "editing", "left", "title", "internal_notes", "1:1:"])
    if kind == 6:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {rng.choice(["type", "topic", "since", "state", "field", "x"]): _value(rng, depth + 1)
            for _ in range(rng.randrange(0, 5))}  # fmt: skip


def _frame(rng: random.Random) -> str | bytes:
    shape = rng.randrange(10)
    if shape == 0:
        return rng.choice(["", "{", "null", "[]", "42", '"text"', "{]", "\ud800" * 3])
    if shape == 1:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    frame: dict[str, Any] = {"type": rng.choice(TYPES)}
    for key in ("topic", "since", "state", "field"):
        if rng.random() < 0.6:
            frame[key] = rng.choice(TOPICS) if key == "topic" else _value(rng)
    if rng.random() < 0.2:
        frame[rng.choice(["extra", "cursor", "users"])] = _value(rng)
    try:
        return json.dumps(frame)
    except ValueError:
        return "{}"


async def test_random_frames_never_crash_the_socket(socket_for: SocketFor, served: Served) -> None:
    rng = random.Random(SEED)  # noqa: S311 - reproducible fuzzing, not secrets
    ws = await socket_for("editor")
    errors = 0
    for _ in range(FRAMES):
        raw = _frame(rng)
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        await ws.send(raw) if isinstance(raw, str) else await ws.conn.send(raw)
        await ws.send({"type": "ping"})
        while True:
            frame = await ws.next()
            assert isinstance(frame, dict), frame
            assert frame.get("type") in KNOWN, frame
            if frame["type"] == "error":
                errors += 1
                assert isinstance(frame.get("code"), str), frame
                assert frame["code"], frame
                assert isinstance(frame.get("message"), str), frame
            if frame["type"] == "pong":
                break
    # Subscriptions are answered by the hub in order, possibly after a pong:
    # one more, to a real record, is answered after all of them.
    await ws.send({"type": "subscribe", "topic": "r/courses/2"})
    while True:
        frame = await ws.next()
        assert frame.get("type") in KNOWN, frame
        errors += frame["type"] == "error"
        if frame["type"] == "subscribed" and frame["topic"] == "r/courses/2":
            break
    # Most random frames are wrong, and each wrong one got an error frame.
    assert errors > FRAMES / 2
    await ws.quiet()
    async with httpx.AsyncClient(base_url=served.http) as client:
        assert (await client.get("/health")).json()["status"] == "ok"


def _cursor(lower: str, upper: str, after_id: object = 0) -> str:
    raw = json.dumps([lower, upper, after_id, 0.0]).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# Inputs that answered 500 over HTTP, in the shapes a socket can carry them:
# non-ASCII digits (they pass isdigit()), NUL characters, keys beyond a column's
# range, and cursors whose snapshots hold such digits.
HOSTILE_FRAMES: list[dict[str, Any]] = [
    *({"type": "subscribe", "topic": t} for t in (
        "workflow-runs/²", "workflow-runs/٣", "workflow-runs/\uff11",
        "workflow-runs/99999999999999999999",
        "r/courses/²", "r/courses/٣", "r/courses/2147483648", "r/courses/-2147483649",
        "r/courses/9223372036854775808", "r/courses/1\u0000", "r/cour\u0000ses", "\u0000",
    )),
    *({"type": "subscribe", "topic": "r/courses", "since": s} for s in (
        "²", "\u0000", _cursor("²:²:", "²:²:"), _cursor("1:1:", "1:1:٣"),
        _cursor("1:1:", "1:1:", 2**70), _cursor("1\u0000:1:", "1:1:"), _cursor("1:1:", "1:1:", "²"),
    )),
    {"type": "presence", "topic": "r/courses/1", "state": "editing", "field": "ti\u0000tle"},
    {"type": "presence", "topic": "r/courses/²", "state": "viewing"},
    {"type": "unsubscribe", "topic": "r/courses/\u0000"},
]  # fmt: skip


async def test_hostile_frames_get_an_answer_and_leave_the_socket_open(
    socket_for: SocketFor, served: Served
) -> None:
    ws = await socket_for("instructor")
    for frame in HOSTILE_FRAMES:
        await ws.send(frame)
        await ws.send({"type": "ping"})
        answers = []
        while (reply := await ws.next())["type"] != "pong":
            answers.append(reply)
        if frame["type"] == "subscribe":
            # Subscribes are answered by the hub, possibly after the pong.
            reply = answers[0] if answers else await ws.next()
            assert reply["type"] in ("error", "subscribed"), (frame, reply)
            if reply["type"] == "error":
                assert reply["code"] in ("bad_topic", "not_found", "bad_cursor", "forbidden"), reply
    await ws.send({"type": "subscribe", "topic": "r/courses"})
    await ws.expect("subscribed", topic="r/courses")
    async with httpx.AsyncClient(base_url=served.http) as client:
        assert (await client.get("/health")).json()["status"] == "ok"
