"""Everything the demo runs besides the TUI, as one async context: the demo database,
the channel server on a fixed loopback port (with the bot), the demo teammates and the
simulated customers. Used headless by tests and by ``inbox-tui web``, and on a
background thread by ``inbox-tui demo`` (see ``background``)."""

from __future__ import annotations

import contextlib
import errno
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from inbox_tui.settings import Secret, Settings, data_dir

if TYPE_CHECKING:
    from inbox_tui.channel.server import ChannelServer
    from inbox_tui.runtime import Runtime

#: The demo listens here on every run, so its other clients (a second inbox,
#: ``inbox-tui chat --demo`` and its saved session) find it again after a restart.
DEMO_PORT = 8770

DEMO_DATABASE = "demo.db"
DEMO_TOKENS = "demo-team.json"


def demo_knowledge_file() -> Path:
    """The knowledge file shipped with the package (see ``knowledge.md``)."""
    return Path(str(resources.files("inbox_tui.demo") / "knowledge.md"))


def demo_database_path(directory: Path | None = None) -> Path:
    return (directory or data_dir()) / DEMO_DATABASE


def reset_demo(directory: Path | None = None) -> None:
    """Forget the demo's conversations, tickets and teammates (``--reset``)."""
    database = demo_database_path(directory)
    for path in (
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
        database.with_name(DEMO_TOKENS),
    ):
        path.unlink(missing_ok=True)


def demo_settings(settings: Settings, directory: Path | None = None) -> Settings:
    """The user's settings, pointed at the demo's own SQLite file on loopback. A model
    the user configured is kept; otherwise the offline AI answers from the demo's
    knowledge file (also used when the user named none)."""
    database = demo_database_path(directory)
    bot = settings.bot
    if not bot.knowledge_file:
        bot = bot.replace(knowledge_file=str(demo_knowledge_file()))
    return settings.replace(
        database_url=f"sqlite+aiosqlite:///{database}",
        bot=bot,
        server=settings.server.replace(host="127.0.0.1", port=0),
    )


@dataclass(frozen=True)
class DemoServices:
    """What a client needs to join the running demo."""

    settings: Settings  # the demo settings, with the server address and the demo user's token
    server_url: str
    port: int
    tokens: dict[str, str]
    #: Set when the usual demo port was taken and another one is used this time.
    port_note: str | None = None
    shop_url: str = ""  # a shop page with the chat widget, for being the customer in a browser

    def settings_for(self, handle: str) -> Settings:
        tui = self.settings.tui.replace(server_url=self.server_url, agent=handle, token=Secret(self.tokens[handle]))
        return self.settings.replace(tui=tui)

    def environment_for(self, handle: str) -> dict[str, str]:
        """Environment variables that make ``inbox-tui open`` join the demo as ``handle``."""
        return {
            "INBOX_DB_URL": self.settings.database_url,
            "INBOX_SERVER_URL": self.server_url,
            "INBOX_AGENT": handle,
            "INBOX_TOKEN": self.tokens[handle],
            "INBOX_KNOWLEDGE_FILE": self.settings.bot.knowledge_file or "",
        }


async def _start_server(runtime: Runtime, port: int | None) -> tuple[ChannelServer, str | None]:
    from inbox_tui.channel.server import ChannelServer

    server = ChannelServer(runtime, host="127.0.0.1", port=DEMO_PORT if port is None else port)
    try:
        await server.start()
        return server, None
    except OSError as error:
        if port is not None or error.errno != errno.EADDRINUSE:
            raise
    server = ChannelServer(runtime, host="127.0.0.1", port=0)
    await server.start()
    return server, (
        f"port {DEMO_PORT}, the demo's usual one, is taken: this time the demo listens on "
        f"{server.port} (`inbox-tui chat --demo` finds it; other clients need the new address)"
    )


@contextlib.asynccontextmanager
async def run_demo_services(
    settings: Settings,
    *,
    customers: bool = True,
    seed: int | None = None,
    directory: Path | None = None,
    port: int | None = None,
) -> AsyncIterator[DemoServices]:
    """Start the demo's server, team and customers; stop all of them on exit.

    The server listens on ``port``; without one on :data:`DEMO_PORT`, or, when that is
    taken, on a free port (and ``port_note`` says so)."""
    from inbox_tui.demo.simulation import CustomerSimulation
    from inbox_tui.demo.team import DEMO_USER, ensure_demo_team
    from inbox_tui.runtime import open_runtime
    from inbox_tui.widget.demo_shop import DemoShop

    settings = demo_settings(settings, directory)
    runtime = await open_runtime(settings)
    try:
        tokens = await ensure_demo_team(runtime.store, demo_database_path(directory).with_name(DEMO_TOKENS))
        server, port_note = await _start_server(runtime, port)
        shop = await DemoShop.start(server.widget_url)
        try:
            server_url = server.url
            services = DemoServices(settings, server_url, server.port, tokens, port_note, shop.url)
            services = replace(services, settings=services.settings_for(DEMO_USER))
            simulation = CustomerSimulation(server_url, rng=random.Random(seed)) if customers else None
            if simulation is not None:
                simulation.start()
            try:
                yield services
            finally:
                if simulation is not None:
                    await simulation.stop()
        finally:
            await shop.stop()
            await server.stop()
    finally:
        await runtime.close()
