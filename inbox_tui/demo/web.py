"""``inbox-tui web``: the inbox TUI in a browser, through textual-serve.

textual-serve runs a command per browser tab and relays its terminal over a websocket;
the command here is ``inbox-tui open`` with the same configuration, so each tab is a
full inbox of its own. With ``--demo`` the demo's services run in the background and
every tab signs in as the demo teammate.

There is no login page: whoever reaches the address gets the inbox as the configured
teammate. That is why it listens on loopback unless told otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, log, to_int

from inbox_tui.settings import Settings

#: How long each tab's app gets to quit when the server stops.
TAB_QUIT_TIMEOUT = 5.0


class InboxWebServer(Server):
    """textual-serve's server with an orderly stop: every open tab's app is told to quit
    and awaited before the server goes away, so no inbox process outlives it.

    ``handle_websocket`` is textual-serve's own, plus a registry of the running apps
    (the library keeps them in local variables only)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._apps: set[AppService] = set()

    def initialize_logging(self) -> None:
        super().initialize_logging()
        # The demo's channel server logs every customer connection at INFO; not news here.
        logging.getLogger("websockets").setLevel(logging.WARNING)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: AppService | None = None
        try:
            await websocket.prepare(request)
            app_service = AppService(
                self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                close=websocket.close, download_manager=self.download_manager, debug=self.debug)
            self._apps.add(app_service)
            await app_service.start(width, height)
            await self._process_messages(websocket, app_service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - one tab's failure is logged, not fatal
            log.exception(error)
        finally:
            if app_service is not None:
                self._apps.discard(app_service)
                await app_service.stop()
        return websocket

    async def on_shutdown(self, app: web.Application) -> None:
        # aiohttp calls this before it cancels the handlers. An app told to quit says
        # "exit", textual-serve then closes that tab's socket, and its handler returns.
        services = list(self._apps)
        if services:
            await asyncio.gather(*(_end_app(service) for service in services))


async def _end_app(service: AppService) -> None:
    """Ask the tab's app to quit; if it has not within the timeout, kill it, so that no
    process outlives the server whatever state the app was in."""
    stopping = asyncio.ensure_future(service.stop())
    done, _ = await asyncio.wait({stopping}, timeout=TAB_QUIT_TIMEOUT)
    if stopping in done:
        return
    process = getattr(service, "_process", None)  # textual-serve keeps it private
    if process is not None and process.returncode is None:
        log.warning("a tab's app did not quit within %.0f s; killing it", TAB_QUIT_TIMEOUT)
        process.kill()
    await asyncio.wait({stopping}, timeout=TAB_QUIT_TIMEOUT)


def open_command(config_path: Path | None = None) -> str:
    """The shell command textual-serve starts for each browser tab."""
    argv = [sys.executable, "-m", "inbox_tui"]
    if config_path is not None:
        argv += ["--config", str(config_path)]
    # exec: the shell textual-serve starts becomes the app, so nothing sits in between.
    return "exec " + shlex.join(argv + ["open"])


def serve_web(
    settings: Settings, *, host: str, port: int, demo: bool = False, reset: bool = False,
    public_url: str | None = None, config_path: Path | None = None,
) -> None:
    def _serve(environment: Mapping[str, str]) -> None:
        # The tabs' processes inherit this process's environment (textual-serve copies it).
        os.environ.update(environment)
        server = InboxWebServer(open_command(config_path), host=host, port=port,
                        title="inbox-tui" + (" demo" if demo else ""), public_url=public_url)
        server.serve()

    if not demo:
        _serve({})
        return
    from inbox_tui.demo.launch import running_demo
    from inbox_tui.demo.team import DEMO_USER

    with running_demo(settings, reset=reset) as services:
        _serve(services.environment_for(DEMO_USER))
