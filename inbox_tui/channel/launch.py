"""``inbox-tui serve``: open the runtime, run a channel server until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine
from typing import Any

import click

from inbox_tui.core.database_url import DatabaseURLError
from inbox_tui.core.store import StoreError
from inbox_tui.settings import Settings, SettingsError

log = logging.getLogger(__name__)

#: After SIGTERM/SIGINT: at most this long for an orderly stop, then this long to close
#: the database; past that the process exits anyway (a supervisor waits about 10 s).
STOP_SECONDS = 6.0
CLOSE_SECONDS = 2.0


async def serve_until_stopped(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    from inbox_tui.channel.server import ChannelServer
    from inbox_tui.core.start_checks import prepare_database_for_serving
    from inbox_tui.runtime import open_runtime

    await prepare_database_for_serving(
        settings.database_url,
        lambda line: print(f"inbox-tui serve: {line}", file=sys.stderr, flush=True),
        give_up_after=settings.server.database_wait_seconds,
    )
    runtime = await open_runtime(settings)
    # The language models load before listening rather than in the middle of the first
    # customer's message; a configured handoff translation adds its language.
    from inbox_tui.ai.language import preload

    preload(settings.bot.handoff_translations)
    try:
        server = ChannelServer(runtime, host or settings.server.host, settings.server.port if port is None else port)
        try:
            await server.start()
        except OSError as error:
            raise click.ClickException(
                f"cannot listen on {server.host}:{server.port}: {error.strerror or error}"
            ) from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def first_signal() -> None:
            stop.set()
            # A second signal acts as if none were handled: SIGTERM ends the process at
            # once, Ctrl+C interrupts, whatever the orderly stop is waiting for.
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, first_signal)
        ai = f"model {settings.ai.model}" if runtime.ai.has_model else "offline AI"
        print(
            f"inbox-tui serve: listening on {server.url} "
            f"(customers {server.chat_url}, agents {server.bridge_url}; {ai}; node {server.node_id})",
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            print("inbox-tui serve: stopping", flush=True)
            if not await _within(server.stop(), STOP_SECONDS):
                log.warning("the server did not stop within %.0f s; exiting anyway", STOP_SECONDS)
    finally:
        if not await _within(runtime.close(), CLOSE_SECONDS):
            log.warning("closing the database took more than %.0f s; exiting anyway", CLOSE_SECONDS)


async def _within(work: Coroutine[Any, Any, Any], seconds: float) -> bool:
    """Run ``work`` for at most ``seconds``; False if it had not finished by then.

    Never longer, unlike ``asyncio.wait_for``, which after its timeout waits for the
    cancelled work to end. Errors propagate as usual."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task not in done:
        task.cancel()
        return False
    task.result()
    return True


def run_server(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        from inbox_tui.channel.event_loop import loop_factory

        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(serve_until_stopped(settings, host, port))
    except (StoreError, DatabaseURLError, SettingsError) as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot reach the database: {error}") from None
    except Exception as error:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError):
            raise click.ClickException(f"database error: {error.__class__.__name__}: {error}") from None
        raise
