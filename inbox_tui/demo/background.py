"""The demo's services on a thread of their own, with their own event loop.

Why a thread: the TUI's entry point (``run_tui``) owns the main thread and its event
loop for as long as the app runs, and the server must keep answering customers all
that time. On its own loop the server is never starved by a long repaint, and it stops
in a fixed order (customers, server, database) however the TUI ends — a normal quit, an
exception or Ctrl+C — because ``stop`` is called from a ``finally``. The TUI talks to
it exactly as it would to a remote ``inbox-tui serve``: through the bridge and the
database, so the demo shows the real path.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from inbox_tui.demo.services import DemoServices, run_demo_services
from inbox_tui.settings import Settings

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class DemoStartError(RuntimeError):
    """The demo's services could not start; the message says why."""


class BackgroundDemo:
    def __init__(
        self,
        settings: Settings,
        *,
        customers: bool = True,
        seed: int | None = None,
        directory: Path | None = None,
        port: int | None = None,
    ) -> None:
        self._port = port
        self._settings = settings
        self._customers = customers
        self._seed = seed
        self._directory = directory
        self._ready = threading.Event()
        self._services: DemoServices | None = None
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_requested = threading.Event()
        # A daemon thread, so that a hang in shutdown can never keep the process alive;
        # ``stop`` still shuts everything down in order and joins it.
        self._thread = threading.Thread(target=self._run, name="inbox-demo-services", daemon=True)

    def start(self, timeout: float = START_TIMEOUT) -> DemoServices:
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise DemoStartError(f"the demo's services did not start within {timeout:.0f} s")
        if self._error is not None:
            self._thread.join(STOP_TIMEOUT)
            raise DemoStartError(f"the demo could not start: {self._error}") from self._error
        assert self._services is not None
        return self._services

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        self._stop_requested.set()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass  # the loop finished on its own meanwhile
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:
            if not self._ready.is_set():
                self._error = error
            else:
                log.exception("the demo's services stopped with an error")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with run_demo_services(
            self._settings, customers=self._customers, seed=self._seed, directory=self._directory, port=self._port
        ) as services:
            self._services = services
            self._ready.set()
            if not self._stop_requested.is_set():  # stop() may have come before the loop existed
                await self._stop.wait()
