"""Load generator for the chat channel: N customers talking to the offline bot.

Prints, for each N: end-to-end messages per second (customer frame → stored → bot
reply received by the customer), p50/p99 latency of that round trip, and the same
figures for a plain ``websockets`` echo server measured in the same run on the same
machine; then the server's memory per idle connection. Each server runs in its own
process; the customers run in this one, through ``CustomerClient``.

    .venv/bin/python benchmarks/bench_channel.py                  # 100 and 1000 customers, SQLite
    .venv/bin/python benchmarks/bench_channel.py --customers 100 --messages 30
    .venv/bin/python benchmarks/bench_channel.py --database-url postgresql://postgres@127.0.0.1/test

Targets: throughput at least 0.15× the echo baseline flat out; p99 at most 30 ms at 100
customers paced; on PostgreSQL at least 1,500 msg/s at 100 customers.
The server's per-connection rate limit is raised for the run (a customer here sends far
faster than a person types).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from inbox_tui.client.customer import CustomerClient
from inbox_tui.wire.codec import encode
from inbox_tui.wire.customer import ChatMessage, SendMessage

# The speed issue's targets, shared with run_all.py.
TARGET_RATIO = 0.15
TARGET_P99_MS = 30.0
TARGET_PG_RATE = 1500.0
QUESTION = "Hello! What are your opening hours this week?"
LISTENING = re.compile(r"listening on (ws://[\d.]+:\d+)")


# -- the echo baseline ------------------------------------------------------------------


async def run_echo_server() -> None:
    async def echo(connection) -> None:  # type: ignore[no-untyped-def]
        async for frame in connection:
            await connection.send(frame)

    async with serve(echo, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


# -- server processes -------------------------------------------------------------------


@dataclass
class ServerProcess:
    process: asyncio.subprocess.Process
    url: str

    @classmethod
    async def start(cls, args: list[str], env: dict[str, str]) -> ServerProcess:
        process = await asyncio.create_subprocess_exec(*args, env=env, stdout=asyncio.subprocess.PIPE, stderr=None)
        line = await asyncio.wait_for(process.stdout.readline(), 60)  # type: ignore[union-attr]
        found = LISTENING.search(line.decode())
        if not found:
            process.kill()
            raise SystemExit(f"server did not start: {line!r}")
        return cls(process, found.group(1))

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server so far (the machine may be shared, so
        CPU per message is steadier than wall-clock figures)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def channel_env(database_url: str, workdir: Path) -> dict[str, str]:
    config = workdir / "config.toml"
    config.write_text(
        "[server]\nrate_limit_per_second = 1000000.0\nrate_limit_burst = 1000000\nnew_conversations_per_minute = 0.0\n"
    )
    return {
        **os.environ,
        "INBOX_DB_URL": database_url,
        "INBOX_AI": "offline",
        "INBOX_CONFIG": str(config),
        "INBOX_DATA_DIR": str(workdir / "data"),
        "INBOX_CONFIG_DIR": str(workdir / "config"),
    }


# -- measuring --------------------------------------------------------------------------


@dataclass
class Result:
    messages: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self, label: str) -> str:
        return (
            f"{label:<28} {self.rate:9.0f} msg/s   p50 {self.percentile(0.5):7.2f} ms   "
            f"p99 {self.percentile(0.99):7.2f} ms   ({self.messages} messages in {self.seconds:.2f} s)"
        )


async def load(
    customers: int,
    rounds: int,
    connect_one: Callable[[int], Awaitable[object]],
    round_trip: Callable[[object, int], Awaitable[None]],
    close: Callable[[object], Awaitable[None]],
    pace: float = 0.0,
) -> Result:
    """Connect every customer, then each sends ``rounds`` messages, one after the other:
    as fast as the answers come (``pace`` 0: the saturation throughput), or one every
    ``pace`` seconds from a random start (people typing: the latency a customer sees)."""
    clients = []
    for start in range(0, customers, 100):  # connect in waves, as a crowd arrives
        clients += await asyncio.gather(*(connect_one(n) for n in range(start, min(customers, start + 100))))
    latencies: list[float] = []

    async def customer(client: object) -> None:
        if pace:
            await asyncio.sleep(random.uniform(0, pace))
        for n in range(rounds):
            began = time.perf_counter()
            await round_trip(client, n)
            took = time.perf_counter() - began
            latencies.append(took)
            if pace:
                await asyncio.sleep(max(0.0, pace - took))

    began = time.perf_counter()
    await asyncio.gather(*(customer(c) for c in clients))
    elapsed = time.perf_counter() - began
    await asyncio.gather(*(close(c) for c in clients))
    return Result(len(latencies), elapsed, latencies)


async def measure_channel(url: str, customers: int, rounds: int, pace: float = 0.0) -> Result:
    async def connect_one(n: int) -> CustomerClient:
        # At 1,000 customers sending flat out, the queue of writes is seconds long.
        client = CustomerClient(
            url,
            customer={"id": f"load-{uuid.uuid4().hex[:8]}-{n}", "name": f"Load {n}", "locale": "en"},
            ack_timeout=300,
        )
        await client.connect(open_timeout=60)
        return client

    async def round_trip(client: CustomerClient, n: int) -> None:  # type: ignore[override]
        await client.send(f"{QUESTION} ({n})")
        await client.wait_for(lambda f: isinstance(f, ChatMessage) and f.author == "bot", timeout=300)

    async def close(client: CustomerClient) -> None:  # type: ignore[override]
        await client.close()

    return await load(customers, rounds, connect_one, round_trip, close, pace)  # type: ignore[arg-type]


async def measure_echo(url: str, customers: int, rounds: int, pace: float = 0.0) -> Result:
    async def connect_one(n: int):  # type: ignore[no-untyped-def]
        return await connect(url, compression=None, open_timeout=60)

    async def round_trip(connection, n: int) -> None:  # type: ignore[no-untyped-def]
        await connection.send(encode(SendMessage(text=f"{QUESTION} ({n})", client_id=uuid.uuid4().hex)), text=True)
        await connection.recv()

    async def close(connection) -> None:  # type: ignore[no-untyped-def]
        await connection.close()

    return await load(customers, rounds, connect_one, round_trip, close, pace)


async def idle_memory(server: ServerProcess, chat: bool, connections: int) -> float:
    """KiB of server RSS per idle connection (after the hello, for the channel)."""
    await asyncio.sleep(0.5)
    before = server.rss_kib()
    clients = []
    for start in range(0, connections, 100):
        if chat:
            batch = [
                CustomerClient(server.url, customer={"id": f"idle-{uuid.uuid4().hex}", "locale": "en"})
                for _ in range(start, min(connections, start + 100))
            ]
            await asyncio.gather(*(c.connect(open_timeout=60) for c in batch))
        else:
            batch = await asyncio.gather(
                *(connect(server.url, compression=None) for _ in range(start, min(connections, start + 100)))
            )
        clients += batch
    await asyncio.sleep(1.0)
    after = server.rss_kib()
    await asyncio.gather(*(c.close() for c in clients))
    return (after - before) / connections


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", default="100,1000", help="comma-separated customer counts")
    parser.add_argument(
        "--messages", type=int, default=0, help="messages per customer (default: 20 at 100 customers, 5 at 1000)"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--idle", type=int, default=1000, help="idle connections for the memory figure (0: skip it)")
    parser.add_argument(
        "--pace", type=float, default=5.0, help="seconds between a customer's messages in the paced run (0: skip it)"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-channel-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    print(
        f"database: {database_url.split('@')[-1]}   python {sys.version.split()[0]}   cpus {os.cpu_count()}   "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    channel = await ServerProcess.start(
        [sys.executable, "-m", "inbox_tui", "serve", "--port", "0"], channel_env(database_url, workdir)
    )
    echo = await ServerProcess.start([sys.executable, __file__, "--echo-server"], dict(os.environ))
    try:
        # Warm up both (imports, caches, the first SQLite pages), then memory while fresh.
        await measure_echo(echo.url, 10, 3)
        await measure_channel(channel.url, 10, 3)
        if args.idle > 0:
            channel_idle = await idle_memory(channel, True, args.idle)
            echo_idle = await idle_memory(echo, False, args.idle)
            print(
                f"memory per idle connection ({args.idle} connections, server RSS growth): "
                f"channel {channel_idle:.1f} KiB, echo {echo_idle:.1f} KiB"
            )
        for customers in [int(n) for n in args.customers.split(",")]:
            rounds = args.messages or (20 if customers <= 100 else 5)
            # The echo answers so fast that it needs more messages for a stable figure.
            echo_result = await measure_echo(echo.url, customers, max(rounds, 200_000 // customers))
            cpu_before = channel.cpu_seconds()
            channel_result = await measure_channel(channel.url, customers, rounds)
            cpu_per_message = (channel.cpu_seconds() - cpu_before) * 1000 / channel_result.messages
            print(f"\n{customers} customers, each sending as soon as the last answer came")
            print(echo_result.line("  websockets echo"))
            print(channel_result.line("  channel (offline bot)"))
            print(f"  channel server CPU {cpu_per_message:.2f} ms per round trip (the customers' hellos included)")
            print(f"  throughput ratio {channel_result.rate / echo_result.rate:.3f}× echo (target ≥ {TARGET_RATIO}×)")
            if database_url.startswith("postgresql") and customers == 100:
                print(f"  {channel_result.rate:,.0f} msg/s on PostgreSQL (target ≥ {TARGET_PG_RATE:,.0f})")
            if args.pace and customers <= 100:
                paced_echo = await measure_echo(echo.url, customers, 8, args.pace)
                paced = await measure_channel(channel.url, customers, 8, args.pace)
                print(
                    f"{customers} customers, one message every {args.pace:g} s each "
                    f"({customers / args.pace:.0f} msg/s offered)"
                )
                print(paced_echo.line("  websockets echo"))
                print(paced.line("  channel (offline bot)"))
                print(f"  p99 {paced.percentile(0.99):.1f} ms (target ≤ {TARGET_P99_MS:.0f} ms)")
        print(
            f"\nserver RSS at the end: channel {channel.rss_kib() / 1024:.0f} MiB, echo {echo.rss_kib() / 1024:.0f} MiB"
        )
    finally:
        await asyncio.gather(channel.stop(), echo.stop())


if __name__ == "__main__":
    if sys.argv[1:] == ["--echo-server"]:
        asyncio.run(run_echo_server())
    else:
        asyncio.run(main())
