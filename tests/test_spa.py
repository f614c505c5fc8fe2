"""The web app's files: precompressed assets for browsers that accept them."""

from __future__ import annotations

import gzip
import re

import httpx

from collabadmin.spa import STATIC_DIR


def _script() -> str:
    """The app's entry script (index.html names the small early.ts entry before it)."""
    found = re.search(r'src="(/assets/index-[^"]+\.js)"', (STATIC_DIR / "index.html").read_text())
    assert found, "index.html names its script"
    return found[1]


async def _raw(client: httpx.AsyncClient, path: str, accept: str) -> tuple[httpx.Response, bytes]:
    async with client.stream("GET", path, headers={"Accept-Encoding": accept}) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, body


async def test_the_bundle_goes_out_brotli_or_gzip_as_the_browser_accepts(
    anon: httpx.AsyncClient,
) -> None:
    path = _script()
    plain = (STATIC_DIR / path.lstrip("/")).read_bytes()

    response, body = await _raw(anon, path, "gzip, deflate, br")
    assert response.headers["content-encoding"] == "br"
    assert body == (STATIC_DIR / (path.lstrip("/") + ".br")).read_bytes()
    assert len(body) < len(plain) / 3
    assert response.headers["content-type"].startswith("text/javascript")
    assert "Accept-Encoding" in response.headers["vary"]

    response, body = await _raw(anon, path, "gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain

    # A coding refused with q=0 is not sent; nothing accepted means the file as it is.
    response, body = await _raw(anon, path, "br;q=0, gzip")
    assert response.headers["content-encoding"] == "gzip"
    response, body = await _raw(anon, path, "identity")
    assert "content-encoding" not in response.headers
    assert body == plain


async def test_index_html_is_never_cached_or_compressed(anon: httpx.AsyncClient) -> None:
    response, body = await _raw(anon, "/r/courses", "gzip, br")
    assert "content-encoding" not in response.headers
    assert response.headers["cache-control"] == "no-cache"
    assert b'<div id="root">' in body


async def test_a_page_chunk_goes_out_like_the_entry_script(anon: httpx.AsyncClient) -> None:
    """Pages loaded on demand are files of their own, cached and compressed the same way."""
    index = (STATIC_DIR / "index.html").read_text()
    lazy = sorted(p.name for p in (STATIC_DIR / "assets").glob("*.js") if p.name not in index)
    assert any(name.startswith("ImportPage-") for name in lazy), lazy
    chunk = next(name for name in lazy if name.startswith("ImportPage-"))
    plain = (STATIC_DIR / "assets" / chunk).read_bytes()
    # The entry script names its chunks by the same /assets/ path.
    entry = (STATIC_DIR / _script().lstrip("/")).read_text()
    assert f"assets/{chunk}" in entry

    response, body = await _raw(anon, f"/assets/{chunk}", "gzip, deflate, br")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "br"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/javascript")
    response, body = await _raw(anon, f"/assets/{chunk}", "gzip")
    assert gzip.decompress(body) == plain


async def test_a_file_of_another_build_is_a_404_not_the_page(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/assets/Dashboard-gone1234.js")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    # Client routes still get the page.
    page = await anon.get("/r/courses/records/import")
    assert page.status_code == 200
    assert b'<div id="root">' in page.content
