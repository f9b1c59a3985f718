"""``inbox-tui serve`` killed with SIGKILL while the widget is sending, then started
again on the same port: the widget reconnects, sends again what was not acknowledged,
and the store holds every message exactly once (whether or not the killed server had
stored it before it died)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from inbox_tui.core.store import Store
from inbox_tui.widget.demo_shop import serve_demo_shop
from tests.channel.conftest import KNOWLEDGE
from tests.widget.conftest import free_port
from tests.widget.test_widget_in_browser import SHIPPING_ANSWER, by, new_widget_page
from tests.widget.widget_page import conversation_messages

pytestmark = pytest.mark.slow
ENTRY_POINT = str(Path(sys.executable).parent / "inbox-tui")


class ServeProcess:
    def __init__(self, tmp_path: Path, port: int) -> None:
        knowledge = tmp_path / "knowledge.md"
        knowledge.write_text(KNOWLEDGE, encoding="utf-8")
        self.database_url = f"sqlite+aiosqlite:///{tmp_path / 'widget.db'}"
        self.port = port
        self.environment = {
            **os.environ,
            "INBOX_DB_URL": self.database_url,
            "INBOX_AI": "offline",
            "INBOX_KNOWLEDGE_FILE": str(knowledge),
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            ENTRY_POINT,
            "serve",
            "--port",
            str(self.port),
            env=self.environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as http, asyncio.timeout(30):
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/widget.js") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    assert self.process.returncode is None, "inbox-tui serve exited"
                    await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
        if self.process is not None:
            await self.process.wait()


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[ServeProcess]:
    process = ServeProcess(tmp_path, free_port())
    await process.start()
    yield process
    await process.stop()


async def test_the_server_killed_mid_conversation(serve: ServeProcess, browser) -> None:  # type: ignore[no-untyped-def]
    async with serve_demo_shop(f"http://127.0.0.1:{serve.port}/widget.js", options={"locale": "en"}) as shop:
        widget, _problems = await new_widget_page(browser, shop.url)
        await widget.open()
        await widget.send("How long does shipping take?")
        await widget.wait_for(by("bot", SHIPPING_ANSWER))

        # Killed as the next message leaves: stored or not, its ack never comes.
        await widget.input.fill("What are your opening hours?")
        await widget.input.press("Enter")
        serve.kill()
        await serve.process.wait()  # type: ignore[union-attr]
        await widget.status.wait_for(state="visible")
        await widget.send("And this one, sent while the server is down")

        await serve.start()
        await widget.wait_until_sent(timeout=40)
        await widget.wait_for(by("bot", "Monday to Friday"), timeout=20)
        await widget.status.wait_for(state="hidden")

        public_id = await widget.stored_conversation()
        store = Store(serve.database_url)
        try:
            stored = await conversation_messages(store, public_id)
        finally:
            await store.close()
        customer = [text for author, text in stored if author == "customer"]
        assert customer == [
            "How long does shipping take?",
            "What are your opening hours?",
            "And this one, sent while the server is down",
        ]
        thread = await widget.thread()
        assert [item["text"] for item in thread if item["kind"] == "customer"] == customer
        assert [item["id"] for item in thread] == sorted({item["id"] for item in thread})
