"""Serving the built frontend from ``collabadmin/static`` with a client-route fallback."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import File

from collabadmin.errors import NotFound

__all__ = ["STATIC_DIR", "spa_handlers"]

STATIC_DIR = Path(__file__).parent / "static"
_NO_SPA = (
    "<!doctype html><meta charset=utf-8><title>collabadmin</title>"
    "<p>The collabadmin API is running. The web app has not been built into this "
    "installation; see <a href=/schema>/schema</a> for the API.</p>"
)


MAX_PATH = 1024
"""Longer paths are no file of the bundle (and would fail the file system's name limit)."""


def _resolve(path: str) -> Path | None:
    """The file of the bundle at ``path``, or None for anything else.

    Any path the file system refuses (a NUL, a name over its limit, bytes it
    cannot encode) is simply no file: the caller answers with the SPA or 404.
    """
    if len(path) > MAX_PATH or "\x00" in path:
        return None
    root = STATIC_DIR.resolve()
    try:
        candidate = (root / path).resolve()
        if root not in candidate.parents or not candidate.is_file():
            return None
    except (OSError, ValueError):
        return None
    return candidate


@get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
def spa(request: Request[Any, Any, Any], path: FromPath[str] = "") -> Response[Any]:
    """A static asset if one exists at ``path``, else the SPA's index.html."""
    clean = path.lstrip("/")
    if clean == "api" or clean.startswith(("api/", "schema")):
        raise NotFound("No such route.")
    asset = _resolve(clean) if clean else None
    if asset is not None:
        media_type = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
        cache = "public, max-age=31536000, immutable" if "/assets/" in f"/{clean}" else "no-cache"
        return File(
            asset,
            media_type=media_type,
            headers={"Cache-Control": cache},
            content_disposition_type="inline",
        )
    index = _resolve("index.html")
    if index is None:
        return Response(content=_NO_SPA, media_type="text/html")
    return File(
        index,
        media_type="text/html",
        headers={"Cache-Control": "no-cache"},
        content_disposition_type="inline",
    )


spa_handlers = [spa]
