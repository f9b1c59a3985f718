"""Driving the widget as a person would, through Playwright (locators reach into the
widget's open shadow root)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from inbox_tui.core.models import Conversation, Message, Ticket
from inbox_tui.core.store import Store

READ_THREAD = """() => {
  const root = document.querySelector('[data-inbox-tui-widget]').shadowRoot;
  return Array.from(root.querySelectorAll('.messages > li')).map(item => ({
    kind: item.className.replace('message ', ''),
    id: item.dataset.id ? Number(item.dataset.id) : null,
    name: item.querySelector('.name')?.textContent ?? '',
    text: item.querySelector('.text')?.textContent ?? item.textContent,
    handover: item.querySelector('.handover')?.textContent ?? null,
  }));
}"""


class WidgetPage:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.launcher = page.locator(".launcher")
        self.panel = page.locator(".panel")
        self.input = page.locator("textarea.input")
        self.status = page.locator(".status")
        self.subtitle = page.locator(".subtitle")

    async def open(self) -> None:
        await self.launcher.click()
        await self.input.wait_for(state="visible")

    async def send(self, text: str) -> None:
        await self.input.fill(text)
        await self.input.press("Enter")

    async def thread(self) -> list[dict[str, Any]]:
        return await self.page.evaluate(READ_THREAD)

    async def wait_for(self, predicate: Any, timeout: float = 15.0) -> dict[str, Any]:
        """The first item of the thread for which ``predicate`` is true."""
        async with asyncio.timeout(timeout):
            while True:
                for item in await self.thread():
                    if predicate(item):
                        return item
                await asyncio.sleep(0.1)

    async def wait_until_sent(self, timeout: float = 15.0) -> None:
        """Nothing waits for an ack any more."""
        async with asyncio.timeout(timeout):
            while any("pending" in item["kind"] for item in await self.thread()):
                await asyncio.sleep(0.1)

    async def stored_conversation(self) -> str:
        return await self.page.evaluate(
            "() => JSON.parse(Object.entries(localStorage).find(([k]) => k.startsWith('inbox-tui-widget:'))[1])"
            ".conversationId"
        )


async def conversation_messages(store: Store, public_id: str) -> list[tuple[str, str]]:
    async with store.read() as session:
        rows = await session.execute(
            select(Message.author, Message.text)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.public_id == public_id)
            .order_by(Message.id)
        )
        return [(author, text) for author, text in rows]


async def open_ticket_of(store: Store, public_id: str) -> int:
    async with store.read() as session:
        ticket_id = await session.scalar(
            select(Ticket.id)
            .join(Conversation, Conversation.id == Ticket.conversation_id)
            .where(Conversation.public_id == public_id)
            .order_by(Ticket.id.desc())
        )
    assert ticket_id is not None, "no ticket for the conversation"
    return ticket_id
