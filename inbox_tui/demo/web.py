"""``inbox-tui web``: the inbox TUI in a browser, through textual-serve.

textual-serve runs a command per browser tab and relays its terminal over a websocket;
the command here is ``inbox-tui open`` with the same configuration, so each tab is a
full inbox of its own. With ``--demo`` the demo's services run in the background and
every tab signs in as the demo teammate.

There is no login page: whoever reaches the address gets the inbox as the configured
teammate. That is why it listens on loopback unless told otherwise.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from inbox_tui.settings import Settings


def open_command(config_path: Path | None = None) -> str:
    """The shell command textual-serve starts for each browser tab."""
    argv = [sys.executable, "-m", "inbox_tui"]
    if config_path is not None:
        argv += ["--config", str(config_path)]
    return shlex.join(argv + ["open"])


def serve_web(
    settings: Settings, *, host: str, port: int, demo: bool = False, reset: bool = False,
    public_url: str | None = None, config_path: Path | None = None,
) -> None:
    from textual_serve.server import Server

    def _serve(environment: Mapping[str, str]) -> None:
        # The tabs' processes inherit this process's environment (textual-serve copies it).
        os.environ.update(environment)
        server = Server(open_command(config_path), host=host, port=port,
                        title="inbox-tui" + (" demo" if demo else ""), public_url=public_url)
        server.serve()

    if not demo:
        _serve({})
        return
    from inbox_tui.demo.launch import running_demo
    from inbox_tui.demo.team import DEMO_USER

    with running_demo(settings, reset=reset) as services:
        _serve(services.environment_for(DEMO_USER))
