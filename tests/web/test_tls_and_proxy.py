"""Where `inbox-tui web` may listen, TLS served by itself, and a declared TLS proxy."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from inbox_tui.core.agents import add_agent
from inbox_tui.core.migrate import ensure_schema
from inbox_tui.core.store import Store
from inbox_tui.settings import load_settings
from inbox_tui.web.launch import WebStartError, check_listening
from inbox_tui.web.limiter import FailedSignIns
from inbox_tui.web.server import InboxWebServer, open_command
from tests.conftest import FixedClock

ENTRY_POINT = str(Path(sys.executable).parent / "inbox-tui")


@pytest.mark.parametrize(
    ("host", "certfile", "keyfile", "proxy", "allowed"),
    [
        ("127.0.0.1", None, None, False, True),
        ("localhost", None, None, False, True),
        ("::1", None, None, False, True),
        ("0.0.0.0", None, None, False, False),
        ("192.0.2.10", None, None, False, False),
        ("0.0.0.0", "cert.pem", "key.pem", False, True),
        ("0.0.0.0", None, None, True, True),
        ("0.0.0.0", "cert.pem", None, False, False),
        ("127.0.0.1", "cert.pem", "key.pem", True, False),
    ],
)
def test_beyond_loopback_only_with_tls_or_a_declared_proxy(
    host: str,
    certfile: str | None,
    keyfile: str | None,
    proxy: bool,
    allowed: bool,
) -> None:
    if allowed:
        check_listening(host, certfile, keyfile, proxy)
    else:
        with pytest.raises(WebStartError):
            check_listening(host, certfile, keyfile, proxy)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
async def test_served_over_tls_the_cookie_is_secure(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    store = Store(load_settings().database_url)
    try:
        await ensure_schema(store)
        _, token = await add_agent(store, "ana", "Ana")
    finally:
        await store.close()
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    process = await asyncio.create_subprocess_exec(
        ENTRY_POINT,
        "web",
        "--port",
        str(port),
        "--certfile",
        str(cert),
        "--keyfile",
        str(key),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as http:
            async with asyncio.timeout(30):
                while True:
                    try:
                        async with http.get(f"{base}/sign-in") as page:
                            assert page.status == 200
                            assert page.headers["Strict-Transport-Security"].startswith("max-age=")
                            policy = page.headers["Content-Security-Policy"]
                            assert f"connect-src 'self' wss://127.0.0.1:{port}" in policy
                            break
                    except aiohttp.ClientConnectionError:
                        assert process.returncode is None
                        await asyncio.sleep(0.2)
            async with http.post(
                f"{base}/sign-in", data={"token": token}, headers={"Origin": base}, allow_redirects=False
            ) as signed_in:
                assert signed_in.status == 303
                cookie = signed_in.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()
    assert process.returncode == 0


async def test_behind_a_declared_proxy_addresses_come_from_x_forwarded_for(database_url: str) -> None:
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    _, token = await add_agent(store, "ana", "Ana")
    server = InboxWebServer(
        store,
        command=open_command(),
        secure=True,
        behind_proxy=True,
        public_url="https://inbox.example.com",
        failed_sign_ins=FailedSignIns(2, timedelta(minutes=5), clock),
    )
    runner = web.AppRunner(server.make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    origin = {"Origin": "https://inbox.example.com"}
    try:
        async with aiohttp.ClientSession() as http:

            async def attempt(address: str, value: str) -> aiohttp.ClientResponse:
                async with http.post(
                    f"{url}/sign-in",
                    data={"token": value},
                    allow_redirects=False,
                    headers={**origin, "X-Forwarded-For": f"198.51.100.1, {address}"},
                ) as answer:
                    await answer.read()
                    return answer

            assert [(await attempt("203.0.113.9", "wrong")).status for _ in range(3)] == [401, 401, 429]
            # Another browser behind the same proxy is not held back by the first one's failures.
            signed_in = await attempt("203.0.113.77", token)
            assert signed_in.status == 303
            assert "Secure" in signed_in.headers["Set-Cookie"]
            # A form from another site is refused.
            async with http.post(
                f"{url}/sign-in",
                data={"token": token},
                allow_redirects=False,
                headers={"Origin": "https://evil.example"},
            ) as foreign:
                assert foreign.status == 403
    finally:
        await runner.cleanup()
        await store.close()


async def test_the_demo_signs_in_by_itself_only_for_a_loopback_name(database_url: str) -> None:
    store = Store(database_url)
    await add_agent(store, "ana", "Ana")
    server = InboxWebServer(store, command=open_command(), auto_sign_in="ana")
    runner = web.AppRunner(server.make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url, allow_redirects=False) as local:
                assert local.status == 200
                assert "Signed in as @ana" in await local.text()
                assert "inbox_session" in local.cookies
            # A foreign name resolving to this machine (DNS rebinding) gets the sign-in page.
            async with http.get(url, headers={"Host": "rebind.example:8000"}, allow_redirects=False) as foreign:
                assert foreign.status == 303
                assert foreign.headers["Location"] == "/sign-in"
    finally:
        await runner.cleanup()
        await store.close()
