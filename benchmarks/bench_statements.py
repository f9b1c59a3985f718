"""Statements and commits the chat server runs per customer round trip.

Runs a channel server in this process (offline bot); ``--customers`` customers each
send ``--messages`` messages one after the other through ``CustomerClient`` (each waits
for the bot's answer). Every statement the server's database connections executed
meanwhile is counted where the driver runs it (``sqlite3``'s trace callback, asyncpg's
query logger), so statements that bypass SQLAlchemy's execution (``core.prepared``)
count too, and so do BEGIN and COMMIT (on PostgreSQL: asyncpg's transaction statements
and the pool's pre-ping). Prints the totals per round trip and each distinct statement
with how often it ran per round trip. The event feed's reads and the delivery marks
are background work: they run per batch, not per message, and show up as fractions;
with several customers the writes of one moment share a transaction (group commit).

    .venv/bin/python benchmarks/bench_statements.py
    .venv/bin/python benchmarks/bench_statements.py --database-url postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.util import await_only

from inbox_tui.channel.server import ChannelServer
from inbox_tui.client.customer import CustomerClient
from inbox_tui.core import prepared
from inbox_tui.runtime import open_runtime
from inbox_tui.settings import load_settings
from inbox_tui.wire.customer import ChatMessage

QUESTION = "Hello! What are your opening hours this week?"


class Counts:
    def __init__(self) -> None:
        self.on = False
        self.statements: Counter[str] = Counter()
        self.sends = 0  # round trips to the database: a pipelined batch of statements is one

    def connected(self, dbapi_connection: Any, _record: Any) -> None:
        """Follow every statement of a new database connection at the driver."""
        driver = getattr(dbapi_connection, "_connection", dbapi_connection)  # inside SQLAlchemy's async adapter
        if hasattr(driver, "add_query_logger"):  # asyncpg: its plain queries (BEGIN, COMMIT, the pre-ping)
            driver.add_query_logger(lambda record: self.statement(record.query))
        elif isinstance(driver, sqlite3.Connection):
            driver.set_trace_callback(self.sqlite_tracer())
        else:  # aiosqlite: its own thread owns the sqlite3 connection (we are in SQLAlchemy's greenlet)
            await_only(driver.set_trace_callback(self.sqlite_tracer()))

    def sqlite_tracer(self) -> Callable[[str], None]:
        """SQLite traces a statement again at the start of each trigger program it runs
        (the search index's triggers): that repeat (the same text with the same values)
        is not another statement. Trigger steps come as ``-- …`` lines, counted apart."""
        last = [""]

        def trace(sql: str) -> None:
            if not sql.startswith("--"):
                if sql == last[0]:
                    return
                last[0] = sql
            self.statement(sql)

        return trace

    def statement(self, sql: str, times: int = 1) -> None:
        if self.on:
            self.statements[_shape(sql)] += times
            self.sends += not sql.startswith("--")  # a trigger's step is part of its statement

    @property
    def commits(self) -> int:
        return sum(n for sql, n in self.statements.items() if sql.upper().startswith("COMMIT"))


def _shape(sql: str) -> str:
    """A statement's first words, enough to tell them apart (values as ``?``: the trace
    callback shows SQLite's statements with their values)."""
    flat = re.sub(r"\s+", " ", sql).strip()
    flat = re.sub(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b|\$\d+(?:::[A-Z]+(?: WITH TIME ZONE)?)?", "?", flat)
    return flat if len(flat) <= 110 else flat[:107] + "..."


def count_asyncpg_prepared(counts: Counts) -> None:
    """asyncpg's query logger does not see prepared statements, which is how SQLAlchemy's
    adapter runs every statement with parameters: count them at the adapter's cursor."""
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_cursor as cursor

    execute, executemany = cursor._prepare_and_execute, cursor._executemany

    async def counted_execute(self: Any, operation: str, parameters: Any) -> Any:
        counts.statement(operation)
        return await execute(self, operation, parameters)

    async def counted_executemany(self: Any, operation: str, rows: Any) -> Any:
        counts.statement(operation)
        return await executemany(self, operation, rows)

    cursor._prepare_and_execute = counted_execute  # type: ignore[method-assign]
    cursor._executemany = counted_executemany  # type: ignore[method-assign]

    # A write group's statements of one kind, sent at once (core/pipelined.py).
    fetch_each = prepared._fetch_each

    async def counted_fetch_each(cursor: Any, sql: str, parameters: list[Any]) -> list[Any]:
        counts.statement(sql, len(parameters))
        return await fetch_each(cursor, sql, parameters)

    prepared._fetch_each = counted_fetch_each


async def run(database_url: str, customers: int, messages: int) -> None:
    counts = Counts()
    event.listen(Engine, "connect", counts.connected)
    count_asyncpg_prepared(counts)
    workdir = Path(tempfile.mkdtemp(prefix="bench-statements-"))
    config = workdir / "config.toml"
    config.write_text("[server]\nrate_limit_per_second = 1000000.0\nrate_limit_burst = 1000000\n")
    settings = load_settings(
        config,
        {**os.environ, "INBOX_DB_URL": database_url, "INBOX_AI": "offline", "INBOX_DATA_DIR": str(workdir)},
    )
    runtime = await open_runtime(settings)
    server = ChannelServer(runtime)
    await server.start()
    clients = [CustomerClient(server.url, customer={"id": f"counting-{n}", "locale": "en"}) for n in range(customers)]

    async def talk(client: CustomerClient, rounds: int) -> None:
        for n in range(rounds):
            await client.send(f"{QUESTION} ({n})")
            await client.wait_for(lambda f: isinstance(f, ChatMessage) and f.author == "bot")

    try:
        await asyncio.gather(*(c.connect() for c in clients))
        await asyncio.gather(*(talk(c, 3) for c in clients))  # warm up: languages known, caches filled
        await server.wait_idle()
        counts.on = True
        await asyncio.gather(*(talk(c, messages) for c in clients))
        await server.wait_idle()
        counts.on = False
        await asyncio.gather(*(c.close() for c in clients))
    finally:
        await server.stop()
        await runtime.close()
    trips = customers * messages
    total = sum(counts.statements.values())
    print(f"database: {database_url.split('@')[-1]}   {customers} customers × {messages} round trips")
    steps = sum(n for sql, n in counts.statements.items() if sql.startswith("--"))
    print(
        f"statements per round trip: {(total - steps) / trips:.2f} (+ {steps / trips:.2f} trigger steps)   "
        f"commits per round trip: {counts.commits / trips:.2f}   "
        f"sent to the database per round trip: {counts.sends / trips:.2f} (a pipelined batch once)"
    )
    for sql, n in counts.statements.most_common():
        print(f"  {n / trips:6.2f}  {sql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--customers", type=int, default=1)
    parser.add_argument("--messages", type=int, default=30, help="per customer")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='bench-statements-')}/bench.db"
    asyncio.run(run(url, args.customers, args.messages))


if __name__ == "__main__":
    sys.exit(main())
