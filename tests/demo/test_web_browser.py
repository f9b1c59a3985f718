"""`inbox-tui web --demo` in a real browser: headless Chromium (Debian's, through
Playwright) loads the page, is signed in as the demo teammate automatically on
loopback, its script opens the terminal websocket and the inbox's first bytes arrive
(textual-serve's page marks its body ``-first-byte`` then)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.browser import launched_chromium, needs_chromium
from tests.web.conftest import wait_for_inbox

ENTRY_POINT = str(Path(sys.executable).parent / "inbox-tui")
pytestmark = [pytest.mark.slow, needs_chromium]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_for_http(url: str, process: asyncio.subprocess.Process, timeout: float = 30) -> None:
    async with aiohttp.ClientSession() as http:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    async with http.get(url):
                        return
                except aiohttp.ClientConnectionError:
                    assert process.returncode is None, "the process exited"
                    await asyncio.sleep(0.2)


async def test_the_demo_opens_signed_in_in_headless_chromium(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log_file:
        web = await asyncio.create_subprocess_exec(
            ENTRY_POINT, "web", "--demo", "--port", str(port), stdout=log_file, stderr=log_file
        )
    try:
        await wait_for_http(f"http://127.0.0.1:{port}/sign-in", web)
        async with launched_chromium() as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(f"http://127.0.0.1:{port}/")
            assert (await page.text_content("#signed-in-as")) == "Signed in as @ana"
            await wait_for_inbox(page)
            await asyncio.sleep(1.5)  # let the first frames paint, for the screenshot
            await page.screenshot(path=str(tmp_path / "inbox-in-chromium.png"))
        assert "signed in as @ana automatically" in log_path.read_text(errors="replace")
    finally:
        if web.returncode is None:
            web.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(web.wait(), 20)
            except TimeoutError:
                web.kill()
                await web.wait()
    assert web.returncode == 0, log_path.read_text(errors="replace")
    assert not (Path(os.environ["INBOX_DATA_DIR"]) / "demo-server.json").exists()
