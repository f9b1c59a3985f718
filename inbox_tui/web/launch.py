"""Start ``inbox-tui web``: check where it may listen, then serve until Ctrl+C or SIGTERM.

Sign-in cookies and tokens cross the network, so beyond loopback the server listens
only with TLS (``--certfile/--keyfile``) or when told that a TLS proxy is in front.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from inbox_tui.core.store import Store
from inbox_tui.settings import Settings
from inbox_tui.web.limiter import FailedSignIns
from inbox_tui.web.server import InboxWebServer, is_loopback_host, open_command


class WebStartError(Exception):
    """A reason not to start, in one line for the user."""


def check_listening(host: str, certfile: str | None, keyfile: str | None, behind_tls_proxy: bool) -> None:
    if bool(certfile) != bool(keyfile):
        raise WebStartError("give both --certfile and --keyfile for TLS")
    if certfile and behind_tls_proxy:
        raise WebStartError("use either --certfile/--keyfile or --behind-tls-proxy, not both")
    if not is_loopback_host(host) and not certfile and not behind_tls_proxy:
        raise WebStartError(
            f"listening on {host} sends sign-in tokens and cookies over the network: serve TLS "
            "(--certfile and --keyfile) or put a TLS proxy in front and say so (--behind-tls-proxy)"
        )


def serve_web(
    settings: Settings,
    *,
    host: str,
    port: int,
    demo: bool = False,
    reset: bool = False,
    public_url: str | None = None,
    config_path: Path | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    behind_tls_proxy: bool = False,
    echo: Callable[[str], None] = print,
) -> None:
    check_listening(host, certfile, keyfile, behind_tls_proxy)
    ssl_context: ssl.SSLContext | None = None
    if certfile and keyfile:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ssl_context.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as error:
            raise WebStartError(f"cannot load the TLS certificate or key: {error}") from None
    public_url = public_url or settings.web.public_url
    secure = ssl_context is not None or behind_tls_proxy

    def run(serve_settings: Settings, tab_environment: Mapping[str, str], auto_sign_in: str | None, title: str) -> None:
        asyncio.run(
            _serve(
                serve_settings,
                host=host,
                port=port,
                ssl_context=ssl_context,
                public_url=public_url,
                secure=secure,
                behind_proxy=behind_tls_proxy,
                command=open_command(config_path),
                tab_environment=tab_environment,
                auto_sign_in=auto_sign_in,
                title=title,
                echo=echo,
            )
        )

    if not demo:
        run(settings, {}, None, "inbox-tui")
        return
    from inbox_tui.demo.launch import running_demo
    from inbox_tui.demo.team import DEMO_USER

    with running_demo(settings, reset=reset) as services:
        environment = services.environment_for(DEMO_USER)
        demo_settings = settings.replace(database_url=environment["INBOX_DB_URL"])
        tab_environment = {k: v for k, v in environment.items() if k not in ("INBOX_TOKEN", "INBOX_AGENT")}
        automatic = DEMO_USER if is_loopback_host(host) else None
        if automatic:
            echo(f"demo: every browser on this machine is signed in as @{DEMO_USER} automatically")
        else:
            valid_for = timedelta(minutes=settings.web.sign_in_link_minutes)
            secret = asyncio.run(_demo_link(demo_settings.database_url, DEMO_USER, valid_for))
            base = public_url or f"{'https' if ssl_context else 'http'}://{host}:{port}"
            echo(
                f"demo: not on loopback, so no automatic sign-in; a one-time link for @{DEMO_USER}: "
                f"{base}/link?code={secret}"
            )
        run(demo_settings, tab_environment, automatic, "inbox-tui demo")


async def _demo_link(database_url: str, handle: str, valid_for: timedelta) -> str:
    from inbox_tui.core.sign_in import create_sign_in_link

    store = Store(database_url)
    try:
        return (await create_sign_in_link(store, handle, valid_for)).secret
    finally:
        await store.close()


async def _serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    public_url: str | None,
    secure: bool,
    behind_proxy: bool,
    command: str,
    tab_environment: Mapping[str, str],
    auto_sign_in: str | None,
    title: str,
    echo: Callable[[str], None],
) -> None:
    from inbox_tui.core.migrate import ensure_schema

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    store = Store(settings.database_url)
    try:
        await ensure_schema(store)
        web_settings = settings.web
        server = InboxWebServer(
            store,
            command=command,
            tab_environment=tab_environment,
            title=title,
            idle=timedelta(minutes=web_settings.session_idle_minutes),
            failed_sign_ins=FailedSignIns(
                web_settings.sign_in_attempts, timedelta(seconds=web_settings.sign_in_window_seconds), store.now
            ),
            secure=secure,
            behind_proxy=behind_proxy,
            public_url=public_url,
            auto_sign_in=auto_sign_in,
        )
        runner = web.AppRunner(server.make_app(), handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
            try:
                await site.start()
            except OSError as error:
                raise WebStartError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
            scheme = "https" if ssl_context else "http"
            echo(f"inbox-tui web: serving {public_url or f'{scheme}://{host}:{port}'} (Ctrl+C to stop)")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
        finally:
            await runner.cleanup()  # on_shutdown ends every tab's app first
    finally:
        await store.close()
