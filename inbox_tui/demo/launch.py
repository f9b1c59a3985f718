"""``inbox-tui demo``: start the demo's services, open the TUI as the demo teammate,
stop everything when the TUI quits (or, headless, on Ctrl+C / SIGTERM)."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from inbox_tui.demo.background import BackgroundDemo
from inbox_tui.demo.services import DemoServices, reset_demo
from inbox_tui.demo.team import DEMO_USER
from inbox_tui.logs import setup_logging
from inbox_tui.settings import Settings, data_dir

#: Where a running demo leaves its address, so ``inbox-tui chat --demo`` can join it.
DEMO_SERVER_FILE = "demo-server.json"


def demo_server_file(directory: Path | None = None) -> Path:
    return (directory or data_dir()) / DEMO_SERVER_FILE


def running_demo_url(directory: Path | None = None) -> str | None:
    """The customer endpoint of the demo running with this data directory, if any."""
    try:
        data = json.loads(demo_server_file(directory).read_text(encoding="utf-8"))
        url, pid = str(data["url"]), int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)  # the demo that wrote it is gone: a stale file
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return url


@contextmanager
def _announced(services: DemoServices, directory: Path | None) -> Iterator[None]:
    path = demo_server_file(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"url": services.server_url, "pid": os.getpid(), "shop": services.shop_url}), encoding="utf-8"
    )
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def running_demo(
    settings: Settings,
    *,
    reset: bool = False,
    customers: bool = True,
    seed: int | None = None,
    directory: Path | None = None,
    port: int | None = None,
) -> Iterator[DemoServices]:
    """The demo's services on a background thread for the duration of the block (on
    ``port``; by default the demo's usual one, see ``run_demo_services``)."""
    if reset:
        reset_demo(directory)
    background = BackgroundDemo(settings, customers=customers, seed=seed, directory=directory, port=port)
    services = background.start()
    try:
        with _announced(services, directory):
            yield services
    finally:
        background.stop()


def connect_hint(services: DemoServices) -> str:
    import shlex

    from inbox_tui.demo.team import DEMO_TEAM

    names = {teammate.handle: teammate.name for teammate in DEMO_TEAM}
    lines = [
        f"demo server: {services.server_url} (customers: {services.server_url}/chat)",
        f"database:    {services.settings.database_url}",
        "be a customer, in another terminal:  inbox-tui chat --demo",
        f"or in a browser, on the demo shop:  {services.shop_url}",
        "open the inbox as a demo teammate, in another terminal:",
    ]
    for handle in services.tokens:
        environment = " ".join(
            f"{key}={shlex.quote(value)}"
            for key, value in services.environment_for(handle).items()
            if key != "INBOX_KNOWLEDGE_FILE"
        )
        lines.append(f"  # {names.get(handle, handle)} (@{handle})\n  {environment} inbox-tui open")
    return "\n".join(lines)


def _wait_for_signal(echo: Callable[[str], None]) -> None:
    """Block the main thread until Ctrl+C or SIGTERM."""
    stop = threading.Event()

    def _handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        echo("running; press Ctrl+C to stop")
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


DEMO_LOG = "demo.log"


def configure_logging(*, to_file: bool, directory: Path | None = None, level: str | None = None) -> Path | None:
    """Under the TUI, log lines would land on the screen: they go to a file in the data
    directory instead. Headless, warnings go to stderr as usual."""
    if not to_file:
        return setup_logging(level or "warning")
    return setup_logging(level or "info", file=(directory or data_dir()) / DEMO_LOG)


def run_demo(
    settings: Settings,
    *,
    reset: bool = False,
    tui: bool = True,
    customers: bool = True,
    seed: int | None = None,
    echo: Callable[[str], None] = print,
    log_level: str | None = None,
    port: int | None = None,
) -> int:
    """Run the demo; returns the exit code (the inbox's, or 0 headless)."""
    configure_logging(to_file=tui, level=log_level)
    with running_demo(settings, reset=reset, customers=customers, seed=seed, port=port) as services:
        if services.port_note:
            echo(services.port_note)
        if not tui:
            echo(connect_hint(services))
            _wait_for_signal(echo)
            return 0
        from inbox_tui.tui.launch import run_tui

        # The inbox draws on the terminal's alternate screen: this line is there again when it quits.
        echo(f"The demo shop, with the chat widget: {services.shop_url}")
        return run_tui(services.settings, agent_handle=DEMO_USER)
