"""The parts of textual-serve the web server relies on, checked against the installed
version: if one of them changes, this fails before a browser does."""

from __future__ import annotations

import asyncio
import inspect

from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from inbox_tui.web.server import TEXTUAL_STATIC, SignedInAppService


def test_app_service_keeps_the_signature_and_methods_used() -> None:
    parameters = inspect.signature(AppService.__init__).parameters
    assert {"command", "write_bytes", "write_str", "close", "download_manager"} <= set(parameters)
    for method in ("start", "stop", "send_bytes", "set_terminal_size", "blur", "focus"):
        assert inspect.iscoroutinefunction(getattr(AppService, method)), method
    # Private, overridden to give each tab its teammate's environment:
    assert "width" in inspect.signature(AppService._build_environment).parameters


def test_the_tab_environment_reaches_the_app_process_environment() -> None:
    async def build() -> dict[str, str]:
        service = SignedInAppService(
            "true",
            write_bytes=_noop,
            write_str=_noop,
            close=_noop,
            download_manager=DownloadManager(),
            environment={"INBOX_TOKEN": "session-secret", "INBOX_AGENT": "ana"},
        )
        # Private too: the process, killed and reaped if an app will not quit.
        assert service._process is None
        return service._build_environment(width=100, height=30)

    environment = asyncio.run(build())
    assert environment["INBOX_TOKEN"] == "session-secret" and environment["INBOX_AGENT"] == "ana"
    assert environment["TEXTUAL_DRIVER"].startswith("textual.drivers.web_driver")  # textual-serve's own
    assert environment["COLUMNS"] == "100"


def test_the_page_script_and_styles_are_where_the_terminal_page_loads_them() -> None:
    script = (TEXTUAL_STATIC / "js" / "textual.js").read_text(encoding="utf-8")
    assert (TEXTUAL_STATIC / "css" / "xterm.css").is_file()
    # The terminal page's contract with the script: its element, data attributes, body classes.
    for needle in (".textual-terminal", "sessionWebsocketUrl", "fontSize", "-first-byte", "-closed", "#start"):
        assert needle in script, needle
    # The messages the server's relay understands.
    for kind in ('"stdin"', '"resize"', '"ping"'):
        assert kind in script, kind


async def _noop(*_args: object) -> None:
    return None
