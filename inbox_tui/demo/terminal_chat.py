"""``inbox-tui chat``: be the customer, in a terminal, on the customer protocol.

A plain line-based prompt over the project's ``CustomerClient``: type a line, press
Enter; the bot, the handoff, a teammate's replies and the return to the bot appear as
they happen. The conversation's token is saved, so running it again resumes the same
chat with its history (``--new`` starts another).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from inbox_tui.client.customer import ChatError, CustomerClient, Frame
from inbox_tui.core.private_files import read_json_object, write_private_json
from inbox_tui.settings import data_dir
from inbox_tui.untrusted_text import literal
from inbox_tui.wire.customer import Author, ChatMessage, ErrorFrame, ModeChange

SESSIONS_FILE = "chat-sessions.json"
QUIT_COMMANDS = frozenset({"/quit", "/exit", "/q"})
MODE_LINES = {
    # Only that the bot stepped aside: who joined (if anyone has) is the server's own
    # status line, sent in the customer's language when it is true.
    "human": "— The assistant handed this conversation to our team. —",
    "bot": "— You are chatting with the assistant again. —",
}


def _safe(text: str) -> str:
    """Text from the server, made harmless for a terminal: control characters (escape
    sequences, OSC 52 clipboard writes) are shown, never obeyed."""
    return literal(text)


@dataclass(frozen=True)
class ChatIdentity:
    customer_id: str
    name: str
    email: str | None
    locale: str | None
    channel: str
    time_zone: str | None = None

    def as_customer(self) -> dict[str, Any]:
        customer: dict[str, Any] = {"id": self.customer_id, "name": self.name}
        if self.email:
            customer["email"] = self.email
        if self.locale:
            customer["locale"] = self.locale
        if self.time_zone:
            customer["time_zone"] = self.time_zone
        return customer


def default_locale() -> str | None:
    """``es-ES`` from ``LANG=es_ES.UTF-8``; None for the C/POSIX locale."""
    value = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    value = value.split(".")[0].replace("_", "-")
    return None if value in ("", "C", "POSIX") else value


def default_time_zone() -> str | None:
    """The machine's IANA zone: ``TZ`` when it names one, else where ``/etc/localtime``
    points (``…/zoneinfo/Europe/Lisbon``); None when neither says."""
    named = os.environ.get("TZ", "").lstrip(":")
    if named and not named.startswith("/"):  # a path is not a zone name
        return named
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return None
    _, found, zone = target.partition("/zoneinfo/")
    return zone if found and zone else None


class SavedSessions:
    """conversation id and token per server and customer, in a private file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / SESSIONS_FILE

    def _key(self, url: str, customer_id: str) -> str:
        return f"{url} {customer_id}"

    def _load(self) -> dict[str, Any]:
        return read_json_object(self.path)

    def get(self, url: str, customer_id: str) -> tuple[str, str] | None:
        entry = self._load().get(self._key(url, customer_id))
        if isinstance(entry, dict) and entry.get("conversation_id") and entry.get("token"):
            return str(entry["conversation_id"]), str(entry["token"])
        return None

    def put(self, url: str, customer_id: str, conversation_id: str, token: str) -> None:
        data = self._load()
        data[self._key(url, customer_id)] = {"conversation_id": conversation_id, "token": token}
        write_private_json(self.path, data)

    def forget(self, url: str, customer_id: str) -> None:
        data = self._load()
        if data.pop(self._key(url, customer_id), None) is not None:
            write_private_json(self.path, data)


def _start_line_reader(loop: asyncio.AbstractEventLoop, stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines from ``stream`` on a queue; None at end of input. A daemon thread, because a
    blocking read cannot be cancelled and must not keep the process alive at exit."""
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def _read() -> None:
        try:
            for line in stream:
                loop.call_soon_threadsafe(lines.put_nowait, line.rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        finally:
            try:
                loop.call_soon_threadsafe(lines.put_nowait, None)
            except RuntimeError:
                pass  # the loop is gone: we are exiting anyway

    threading.Thread(target=_read, name="chat-input", daemon=True).start()
    return lines


class TerminalChat:
    def __init__(
        self,
        url: str,
        identity: ChatIdentity,
        *,
        sessions: SavedSessions | None = None,
        new: bool = False,
        stdin: TextIO | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url
        self.identity = identity
        self.sessions = sessions or SavedSessions()
        self.new = new
        self.stdin = stdin or sys.stdin
        self.echo = echo or (lambda line: print(line, flush=True))
        self._sent: set[int] = set()

    def _print_frame(self, frame: Frame) -> None:
        if isinstance(frame, ChatMessage):
            if frame.id in self._sent:
                return  # the customer's own line is on screen already
            if frame.author == Author.CUSTOMER:
                who = "You"
            elif frame.author == Author.BOT:
                who = frame.name or "Assistant"
            elif frame.author == Author.AGENT:
                who = frame.name or "Teammate"
            else:
                who = "Support"
            self.echo(f"{_safe(who)}: {_safe(frame.text)}")
        elif isinstance(frame, ModeChange):
            self.echo(MODE_LINES.get(frame.mode, f"— mode: {_safe(frame.mode)} —"))
        elif isinstance(frame, ErrorFrame):
            self.echo(f"! {_safe(frame.message or frame.code)}")

    async def _open(self) -> CustomerClient:
        saved = None if self.new else self.sessions.get(self.url, self.identity.customer_id)
        client = CustomerClient(
            self.url,
            channel=self.identity.channel,
            customer=self.identity.as_customer(),
            conversation_id=saved[0] if saved else None,
            token=saved[1] if saved else None,
        )
        try:
            await client.connect()
        except ChatError as error:
            if saved is None or error.code != "not_found":
                raise
            # The saved chat is gone (say, the demo was reset): start a new one.
            self.sessions.forget(self.url, self.identity.customer_id)
            self.echo("(the saved conversation is gone; starting a new one)")
            client = CustomerClient(self.url, channel=self.identity.channel, customer=self.identity.as_customer())
            await client.connect()
        assert client.conversation_id and client.token
        self.sessions.put(self.url, self.identity.customer_id, client.conversation_id, client.token)
        resumed = "resumed your conversation" if saved and client.history else "connected"
        self.echo(
            f"{resumed} at {client.url} as {_safe(self.identity.name)}; type a message and press Enter, /quit to leave."
        )
        if client.mode == "human":
            self.echo(MODE_LINES["human"])
        return client

    async def run(self) -> int:
        client = await self._open()
        lines = _start_line_reader(asyncio.get_running_loop(), self.stdin)
        typed: asyncio.Future[str | None] = asyncio.ensure_future(lines.get())
        incoming: asyncio.Future[Frame] = asyncio.ensure_future(client.receive())
        try:
            while True:
                waiting: set[asyncio.Future[Any]] = {typed, incoming}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if incoming in done:
                    try:
                        self._print_frame(incoming.result())
                    except ChatError:
                        self.echo("(connection lost; reconnecting…)")
                        await client.reconnect(attempts=30, delay=0.5)
                        self.echo("(reconnected)")
                    incoming = asyncio.ensure_future(client.receive())
                if typed in done:
                    line = typed.result()
                    if line is None or line.strip() in QUIT_COMMANDS:
                        return 0
                    if line.strip():
                        try:
                            self._sent.add(await client.send(line))
                        except ChatError as error:
                            self.echo(f"! not sent: {_safe(error.message)}")
                    typed = asyncio.ensure_future(lines.get())
        finally:
            typed.cancel()
            incoming.cancel()
            await client.close()
