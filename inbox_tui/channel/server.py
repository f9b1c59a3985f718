"""The chat channel server: ``/chat`` for customers, ``/bridge`` for agent clients.

Embeddable: ``server = ChannelServer(runtime); await server.start(); ...; await
server.stop()``. ``inbox-tui serve`` runs one through ``launch.run_server``. Several
servers (nodes) may share one PostgreSQL database; events cross nodes through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from inbox_tui.channel.bot import BotLoop
from inbox_tui.channel.bridge_endpoint import BridgeSession
from inbox_tui.channel.bridge_protocol import BRIDGE_PATH, CHAT_PATH
from inbox_tui.channel.customer_endpoint import CustomerHub, CustomerSession
from inbox_tui.channel.delivery import DeliveryMarker
from inbox_tui.channel.escalation_worker import EscalationWorker
from inbox_tui.channel.event_feed import EventFeed
from inbox_tui.channel.origins import OriginPolicy, refusal_text
from inbox_tui.channel.presence import PresenceKeeper
from inbox_tui.channel.snooze_waker import SnoozeWaker
from inbox_tui.channel.tasks import cancel_and_wait
from inbox_tui.core.backlog import run_shift_watcher
from inbox_tui.runtime import Runtime
from inbox_tui.widget.assets import WidgetFiles

log = logging.getLogger(__name__)

#: Frames above ``max_frame_bytes`` get an error frame and the connection stays; this
#: many times the limit, websockets closes the connection (1009) without reading it all.
HARD_FRAME_FACTOR = 4
STOP_TIMEOUT_SECONDS = 5.0


def default_node_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ChannelServer:
    def __init__(self, runtime: Runtime, host: str = "127.0.0.1", port: int = 0, node_id: str | None = None) -> None:
        self.runtime = runtime
        self.host = host
        self.port = port
        self.node_id = (node_id or default_node_id())[:64]
        store = runtime.store
        self.feed = EventFeed(store)
        self.hub = CustomerHub()
        self.marker = DeliveryMarker(store)
        self.escalations = EscalationWorker(runtime)
        self.snoozes = SnoozeWaker(runtime.store)
        self.bot = BotLoop(runtime, self.escalations)
        self.presence = PresenceKeeper(store, self.node_id, runtime.settings.assignment)
        self.origins = OriginPolicy(runtime.settings.server.allowed_origins)
        self.widget = WidgetFiles()
        self._server: Server | None = None
        self._background: list[asyncio.Task[None]] = []
        self._stop_watchers = asyncio.Event()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def chat_url(self) -> str:
        return self.url + CHAT_PATH

    @property
    def bridge_url(self) -> str:
        return self.url + BRIDGE_PATH

    async def start(self) -> None:
        """Listen; ``self.port`` is the bound port afterwards."""
        await self.feed.start()
        self.feed.subscribe(self.hub.on_events)
        # The store nudges the feed after each of its commits, whichever part wrote.
        self.runtime.store.add_commit_listener(self.feed.committed)
        self.marker.start()
        self.escalations.start()
        self.snoozes.start()
        self.bot.start()
        await self.presence.start()
        # Waiting tickets go out when a shift starts (no flow sees that moment happen).
        self._background.append(
            asyncio.create_task(
                run_shift_watcher(self.runtime.store, self.runtime.settings.assignment, self._stop_watchers),
                name="shift-watcher",
            )
        )
        limit = self.runtime.settings.server.max_frame_bytes
        try:
            self._server = await serve(
                self._handle,
                self.host,
                self.port,
                process_request=self._route,
                max_size=limit * HARD_FRAME_FACTOR,
                compression=None,  # small JSON frames; per-connection zlib state costs memory
                server_header="inbox-tui",
            )
        except Exception:
            await self._stop_parts()
            raise
        self.port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self.port
        log.info("channel server %s listening on %s", self.node_id, self.url)

    async def stop(self) -> None:
        """Close every connection, finish or cancel background work, remove presence rows."""
        if self._server is not None:
            self._server.close(close_connections=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_TIMEOUT_SECONDS):  # keeps a cancel, unlike 3.11's wait_for
                    await self._server.wait_closed()
            self._server = None
        await self._stop_parts()

    async def _stop_parts(self) -> None:
        self._stop_watchers.set()
        await self.bot.stop()
        await self.escalations.stop()
        await self.snoozes.stop()
        for task in self._background:
            if task.get_name() == "shift-watcher":
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2):
                        await asyncio.shield(task)
        await cancel_and_wait(self._background)
        self._background.clear()
        await self.presence.stop()
        await self.marker.stop()
        self.feed.unsubscribe(self.hub.on_events)
        self.runtime.store.remove_commit_listener(self.feed.committed)
        await self.feed.stop()

    async def wait_idle(self) -> None:
        """Wait until no bot reply or escalation is being worked on (tests, benchmarks)."""
        while self.bot.busy or self.escalations.busy:
            await self.bot.wait_idle()
            await self.escalations.wait_idle()

    @property
    def widget_url(self) -> str:
        return f"http://{self.host}:{self.port}/widget.js"

    def _route(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == CHAT_PATH:
            origin = request.headers.get("Origin")
            if not self.origins.allows(origin, request.headers.get("Host")):
                log.info("refused a /chat connection from the page origin %r", origin)
                return connection.respond(HTTPStatus.FORBIDDEN, refusal_text(str(origin), CHAT_PATH))
            return None
        if path == BRIDGE_PATH:
            return None
        if self.widget.serves(path):
            return self.widget.response(request)
        return connection.respond(
            HTTPStatus.NOT_FOUND, f"inbox-tui: nothing at {path}; customers use {CHAT_PATH}, agents {BRIDGE_PATH}\n"
        )

    async def _handle(self, connection: ServerConnection) -> None:
        path = connection.request.path.split("?", 1)[0] if connection.request else ""
        try:
            if path == CHAT_PATH:
                await CustomerSession(connection, self.runtime, self.hub, self.bot, self.marker).run()
            elif path == BRIDGE_PATH:
                await BridgeSession(connection, self.runtime, self.feed, self.presence).run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a %s connection failed", path)
            with contextlib.suppress(Exception):
                await connection.close(1011, "internal error")
