"""``/widget.js`` and ``/widget.css`` over plain HTTP from the chat server, and the
``Origin`` check of ``/chat`` at the websocket handshake."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from inbox_tui.channel.origins import OriginPolicy
from inbox_tui.channel.server import ChannelServer
from inbox_tui.runtime import open_runtime
from inbox_tui.settings import SettingsError, load_settings
from inbox_tui.widget.assets import read_static
from tests.channel.conftest import make_settings

MAX_GZIPPED_BYTES = 30 * 1024


@pytest.fixture
async def server(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    started: list[ChannelServer] = []

    async def start(**options: object) -> ChannelServer:
        runtime = await open_runtime(make_settings(database_url, tmp_path, **options), migrate=False)
        channel = ChannelServer(runtime, "127.0.0.1", 0)
        await channel.start()
        started.append(channel)
        return channel

    yield start
    for channel in started:
        await channel.stop()
        await channel.runtime.close()


async def test_the_widget_files_are_served_with_types_caching_and_gzip(server) -> None:  # type: ignore[no-untyped-def]
    channel = await server()
    base = f"http://127.0.0.1:{channel.port}"
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.get(base + "/widget.js", headers={"Accept-Encoding": "gzip"}) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
            assert response.headers["Content-Encoding"] == "gzip"
            assert response.headers["Cache-Control"] == "public, max-age=300"
            assert response.headers["Vary"] == "Accept-Encoding"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            etag = response.headers["ETag"]
            zipped = await response.read()
        script = gzip.decompress(zipped).decode("utf-8")
        print(f"widget.js: {len(script.encode())} bytes, {len(zipped)} bytes gzipped")

        async with http.get(base + "/widget.js", headers={"Accept-Encoding": "identity"}) as response:
            assert "Content-Encoding" not in response.headers
            assert (await response.text()) == script
        async with http.head(base + "/widget.js", headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["Content-Length"] == str(len(zipped)) and await response.read() == b""
        async with http.get(base + "/widget.js", headers={"If-None-Match": etag}) as response:
            assert response.status == 304 and await response.read() == b""

        # The script asks for the stylesheet by its hash, which may be cached for good.
        version = re.search(r'STYLE_VERSION = "([0-9a-f]{12})"', script)
        assert version is not None
        async with http.get(f"{base}/widget.css?v={version.group(1)}", headers={"Accept-Encoding": "gzip"}) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/css; charset=utf-8"
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            style_zipped = await response.read()
            style = gzip.decompress(style_zipped)
            print(f"widget.css: {len(style)} bytes, {len(style_zipped)} bytes gzipped")
            assert style == read_static("widget.css")
        # Everything a page downloads for the widget.
        assert len(zipped) + len(style_zipped) <= MAX_GZIPPED_BYTES
        async with http.get(base + "/widget.css?v=old") as response:
            assert response.headers["Cache-Control"] == "public, max-age=300"
        async with http.get(base + "/nothing-here") as response:
            assert response.status == 404


def test_the_script_never_builds_html_or_code_from_text() -> None:
    """What a strict CSP forbids and what would let a message become markup."""
    script = read_static("widget.js").decode("utf-8")
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setAttribute("style"',
        'setAttribute("on',
        ".onclick",
    ):
        assert forbidden not in script, forbidden
    assert re.search(r"setTimeout\(\s*[\"']", script) is None  # a string timer is eval


async def test_chat_refuses_foreign_origins_at_the_handshake(server) -> None:  # type: ignore[no-untyped-def]
    channel = await server()
    hello = json.dumps({"type": "hello", "customer": {"id": "c-1"}})
    own = f"http://127.0.0.1:{channel.port}"
    for origin in (None, own, "http://localhost:3000", "http://127.0.0.1:5173"):
        async with connect(channel.chat_url, origin=origin) as socket:  # type: ignore[arg-type]
            await socket.send(hello)
            assert json.loads(await socket.recv())["type"] == "welcome", origin

    for origin in ("https://evil.example", "null", "http://127.0.0.1.evil.example"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(channel.chat_url, origin=origin):  # type: ignore[arg-type]
                pass
        response = refused.value.response
        assert response.status_code == 403
        assert f"a page on {origin} may not open /chat" in response.body.decode()
        assert "allowed_origins" in response.body.decode()

    async with channel.runtime.store.read() as session:
        from sqlalchemy import func, select

        from inbox_tui.core.models import Conversation

        assert await session.scalar(select(func.count()).select_from(Conversation)) == 4


async def test_configured_origins_replace_the_loopback_default(server) -> None:  # type: ignore[no-untyped-def]
    channel = await server(allowed_origins=["https://shop.example.com", "https://*.velora.example"])
    for origin, allowed in (
        ("https://shop.example.com", True),
        ("https://eu.velora.example", True),
        ("https://velora.example.evil.test", False),
        ("http://shop.example.com", False),
        ("http://127.0.0.1:5173", False),
        (f"http://127.0.0.1:{channel.port}", True),
    ):
        try:
            async with connect(channel.chat_url, origin=origin):  # type: ignore[arg-type]
                accepted = True
        except InvalidStatus as error:
            assert error.response.status_code == 403
            accepted = False
        assert accepted is allowed, origin


def test_origin_policy() -> None:
    default = OriginPolicy([])
    assert default.allows(None, "chat.example.com")
    assert default.allows("https://chat.example.com", "chat.example.com:443")
    assert default.allows("http://[::1]:8080", "chat.example.com")
    assert not default.allows("https://chat.example.com.evil.test", "chat.example.com")
    assert not default.allows("null", "chat.example.com")
    assert OriginPolicy(["*"]).allows("https://anything.example", "chat.example.com")
    assert OriginPolicy(["https://shop.example.com:443"]).allows("https://shop.example.com", None)
    with pytest.raises(SettingsError, match="allowed_origins"):
        OriginPolicy(["shop.example.com"])


def test_allowed_origins_from_config_toml(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[server]\nallowed_origins = ["https://shop.example.com"]\n', encoding="utf-8")
    assert load_settings(config, environ={}).server.allowed_origins == ["https://shop.example.com"]
    assert load_settings(None, environ={}).server.allowed_origins == []


def test_serve_refuses_a_malformed_allowed_origin_with_one_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from inbox_tui.cli import main

    config = tmp_path / "config.toml"
    config.write_text('[server]\nallowed_origins = ["shop.example.com"]\n', encoding="utf-8")
    monkeypatch.setenv("INBOX_CONFIG", str(config))
    monkeypatch.setenv("INBOX_DB_URL", f"sqlite:///{tmp_path / 'inbox.db'}")
    monkeypatch.setenv("INBOX_AI", "offline")
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "server.allowed_origins: 'shop.example.com' is not an origin" in result.output
    assert "Traceback" not in result.output
