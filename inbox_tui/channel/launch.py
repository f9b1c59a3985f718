"""``inbox-tui serve``: open the runtime, run a channel server until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import click

from inbox_tui.core.database_url import DatabaseURLError
from inbox_tui.core.store import StoreError
from inbox_tui.settings import Settings


async def serve_until_stopped(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    from inbox_tui.channel.server import ChannelServer
    from inbox_tui.runtime import open_runtime

    runtime = await open_runtime(settings)
    # The language models load in about 2 s and hold the interpreter meanwhile: do it
    # before listening rather than in the middle of the first customer's message.
    from inbox_tui.ai.language import preload

    preload()
    try:
        server = ChannelServer(runtime, host or settings.server.host,
                               settings.server.port if port is None else port)
        try:
            await server.start()
        except OSError as error:
            raise click.ClickException(f"cannot listen on {server.host}:{server.port}: {error.strerror or error}") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        ai = f"model {settings.ai.model}" if runtime.ai.has_model else "offline AI"
        print(f"inbox-tui serve: listening on {server.url} "
              f"(customers {server.chat_url}, agents {server.bridge_url}; {ai}; node {server.node_id})",
              flush=True)
        try:
            await stop.wait()
        finally:
            print("inbox-tui serve: stopping", flush=True)
            await server.stop()
    finally:
        await runtime.close()


def run_server(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve_until_stopped(settings, host, port))
    except (StoreError, DatabaseURLError) as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot reach the database: {error}") from None
    except Exception as error:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError):
            raise click.ClickException(f"database error: {error.__class__.__name__}: {error}") from None
        raise
