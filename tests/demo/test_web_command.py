"""`inbox-tui web` for real: the entry point in a subprocess serves the page over HTTP on
loopback, a signed-in browser-side websocket gets the real inbox TUI's screen, and
stopping the server ends every process it started."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.client import connect

from inbox_tui.channel.server import ChannelServer
from inbox_tui.core.agents import add_agent
from inbox_tui.runtime import open_runtime
from inbox_tui.settings import load_settings

ENTRY_POINT = str(Path(sys.executable).parent / "inbox-tui")
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


async def serve_one_tab(
    tmp_path: Path, args: list[str], signed_in_as: bytes, env: dict[str, str] | None = None, token: str | None = None
) -> None:
    """Run `inbox-tui web ARGS`, sign in with ``token`` (the demo signs in by itself), load
    the page, open a tab like the page's script does, wait for the inbox on its screen,
    then stop the server with Ctrl+C and check that nothing it started is left."""
    port = free_port()
    log_path = tmp_path / "web.log"
    log_file = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        ENTRY_POINT,
        "web",
        *args,
        "--port",
        str(port),
        stdout=log_file,
        stderr=log_file,
        env={**os.environ, **(env or {}), "PYTHONFAULTHANDLER": "1"},
    )
    tab_pids: list[int] = []
    try:
        page: str | None = None
        base = f"http://127.0.0.1:{port}"
        # unsafe: the jar keeps cookies of an IP address host.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with asyncio.timeout(30):
                while page is None:
                    try:
                        if token is not None:
                            async with http.post(
                                f"{base}/sign-in", data={"token": token}, headers={"Origin": base}
                            ) as signed_in:
                                assert signed_in.status == 200, await signed_in.text()
                        async with http.get(f"{base}/") as response:
                            assert response.status == 200
                            assert str(response.url) == f"{base}/", "not signed in"
                            page = await response.text()
                    except aiohttp.ClientConnectionError:
                        assert process.returncode is None, log_path.read_text(errors="replace")
                        await asyncio.sleep(0.2)
            cookie = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
        assert f"ws://127.0.0.1:{port}/ws" in page
        assert signed_in_as.decode() in page

        async with connect(
            f"ws://127.0.0.1:{port}/ws?width=120&height=40", additional_headers={"Cookie": cookie, "Origin": base}
        ) as tab:
            screen = b""
            async with asyncio.timeout(30):
                while not (b"Conversations" in screen and signed_in_as in screen):
                    data = await tab.recv()
                    if isinstance(data, bytes):
                        screen += data
            tab_pids = children_of(process.pid)
            assert tab_pids, "no app process for the tab"

            process.send_signal(signal.SIGINT)
            try:
                code = await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                code = None
                process.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: stacks into the log
                await asyncio.sleep(1)
            assert code == 0, log_path.read_text(errors="replace")
        for pid in tab_pids:
            assert not alive(pid), "a tab's app outlived the server"
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
    finally:
        log_file.close()
        if process.returncode is None:
            process.kill()
            await process.wait()
        for pid in tab_pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


async def test_web_demo_serves_the_inbox_in_a_browser_tab(tmp_path: Path) -> None:
    await serve_one_tab(tmp_path, ["--demo"], signed_in_as=b"@ana")
    data = Path(os.environ["INBOX_DATA_DIR"])
    assert not (data / "demo-server.json").exists()  # the demo's server stopped with it


async def test_web_serves_the_configured_inbox(tmp_path: Path) -> None:
    """Without --demo: the configuration's database and server; the teammate signs in
    with their own token, and the tab's inbox works as them."""
    settings = load_settings()
    runtime = await open_runtime(settings)
    server = ChannelServer(runtime, port=0)
    await server.start()
    try:
        _, token = await add_agent(runtime.store, "zoe", "Zoë Brandt")
        await serve_one_tab(tmp_path, [], signed_in_as=b"@zoe", env={"INBOX_SERVER_URL": server.url}, token=token)
    finally:
        await server.stop()
        await runtime.close()


def test_web_refuses_to_listen_beyond_loopback_without_tls() -> None:
    from click.testing import CliRunner

    from inbox_tui.cli import main

    result = CliRunner().invoke(main, ["web", "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "--certfile" in result.output and "--behind-tls-proxy" in result.output
