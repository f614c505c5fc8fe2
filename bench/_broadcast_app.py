"""A bare websocket broadcast server: the baseline for the hub's fan-out.

Every connected socket receives every message; ``POST /burst?n=N`` makes the
server broadcast N messages of the size of a typical change frame as fast as
it can. Served by the same uvicorn as collabadmin, with no database, no
permissions and no queues.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

sockets: set[Any] = set()
PAD = "x" * 300


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()  # connect
        await send({"type": "websocket.accept"})
        queue: asyncio.Queue[str] = asyncio.Queue()
        sockets.add(queue)

        async def pump() -> None:
            while True:
                await send({"type": "websocket.send", "text": await queue.get()})

        task = asyncio.create_task(pump())
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            task.cancel()
            sockets.discard(queue)
        return
    if scope["type"] == "http":
        await receive()
        count = int(scope["query_string"].decode().partition("=")[2] or 1)
        for n in range(count):
            frame = json.dumps({"type": "change", "n": n, "t": time.time(), "pad": PAD})
            for queue in list(sockets):
                queue.put_nowait(frame)
            if n % 10 == 0:
                await asyncio.sleep(0)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
