"""Serving the built frontend from ``collabadmin/static`` with a client-route fallback.

The build writes each asset also brotli- and gzip-compressed beside itself
(``app.js.br``, ``app.js.gz``); a browser that accepts one of them gets that
file with its ``Content-Encoding``, so nothing is compressed per request.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any

from litestar import Response, get
from litestar.params import FromPath, HeaderParameter
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


_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
"""Precompressed forms the build writes, best first."""


def _accepted(accept_encoding: str) -> set[str]:
    """The codings a client accepts (``q=0`` refuses one)."""
    accepted = set()
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            accepted.add(coding.strip())
    return accepted


def _precompressed(asset: Path, accept_encoding: str | None) -> tuple[Path, str | None]:
    """The smallest form of ``asset`` the client accepts, and its content coding."""
    if accept_encoding:
        accepted = _accepted(accept_encoding)
        for coding, suffix in _ENCODINGS:
            if coding in accepted:
                compressed = asset.with_name(asset.name + suffix)
                if compressed.is_file():
                    return compressed, coding
    return asset, None


@get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
def spa(
    path: FromPath[str] = "",
    accept_encoding: Annotated[str | None, HeaderParameter(name="Accept-Encoding")] = None,
) -> Response[Any]:
    """A static asset if one exists at ``path``, else the SPA's index.html."""
    clean = path.lstrip("/")
    if clean == "api" or clean.startswith(("api/", "schema")):
        raise NotFound("No such route.")
    asset = _resolve(clean) if clean else None
    if asset is None and clean.startswith("assets/"):
        # A chunk of another build (a tab open since before an upgrade asks
        # for a file that is gone): a 404, not the page's HTML as a script.
        raise NotFound("No such file in this build of the web app.")
    if asset is not None:
        media_type = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
        cache = "public, max-age=31536000, immutable" if "/assets/" in f"/{clean}" else "no-cache"
        sent, coding = _precompressed(asset, accept_encoding)
        headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
        if coding is not None:
            headers["Content-Encoding"] = coding
        return File(
            sent,
            media_type=media_type,
            headers=headers,
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
