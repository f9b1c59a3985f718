"""`inbox-tui web --demo` in a real browser: headless Chromium loads the page, its script
opens the terminal websocket, and the inbox's first bytes arrive (textual-serve's page
marks its body ``-first-byte`` then). Driven over the DevTools protocol with the
project's own ``websockets``; skipped, with the reason, where Chromium is not installed
(Debian: ``apt-get install chromium``)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect

ENTRY_POINT = str(Path(sys.executable).parent / "inbox-tui")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]
# What a closed network needs: no background fetches, no first-run, no sandbox as root.
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,800"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DevTools:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            reply = json.loads(await self.socket.recv())
            if reply.get("id") == call_id:
                assert "error" not in reply, reply
                return reply["result"]

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


async def wait_for_http(url: str, process: asyncio.subprocess.Process, timeout: float = 30) -> str:
    async with aiohttp.ClientSession() as http:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    async with http.get(url) as response:
                        return await response.text()
                except aiohttp.ClientConnectionError:
                    assert process.returncode is None, "the process exited"
                    await asyncio.sleep(0.2)


async def test_the_inbox_opens_in_headless_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    port, devtools_port = free_port(), free_port()
    web = await asyncio.create_subprocess_exec(
        ENTRY_POINT, "web", "--demo", "--port", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    browser: asyncio.subprocess.Process | None = None
    try:
        await wait_for_http(f"http://127.0.0.1:{port}/", web)
        browser = await asyncio.create_subprocess_exec(
            CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}",
            f"--remote-debugging-port={devtools_port}", f"http://127.0.0.1:{port}/",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        targets = json.loads(await wait_for_http(f"http://127.0.0.1:{devtools_port}/json/list", browser))
        page = next(t for t in targets if t.get("type") == "page")
        async with connect(page["webSocketDebuggerUrl"], max_size=2**26) as socket:
            devtools = DevTools(socket)
            async with asyncio.timeout(30):
                while not await devtools.evaluate("document.body && document.body.classList.contains('-first-byte')"):
                    await asyncio.sleep(0.25)
            await asyncio.sleep(1.5)  # let the first frames paint, for the screenshot
            shot = await devtools.call("Page.captureScreenshot", format="png")
            (tmp_path / "inbox-in-chromium.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        if browser is not None and browser.returncode is None:
            browser.terminate()  # lets Chromium take its helper processes down with it
            try:
                await asyncio.wait_for(browser.wait(), 10)
            except asyncio.TimeoutError:
                browser.kill()
                await browser.wait()
        if web.returncode is None:
            web.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(web.wait(), 20)
            except asyncio.TimeoutError:
                web.kill()
                await web.wait()
    assert web.returncode == 0
    assert not (Path(os.environ["INBOX_DATA_DIR"]) / "demo-server.json").exists()
