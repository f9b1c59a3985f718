"""Benchmark of the inbox TUI under live load (prints figures; run by hand).

    .venv/bin/python benchmarks/bench_tui.py [--conversations 10000] [--rate 200] [--seconds 20]

Sets up a fresh SQLite file with N live conversations, runs ``inbox-tui serve`` as a
separate process, starts the inbox (headless, 120×40) in this process, then a load
process of customers sends ``--rate`` messages a second over the customer websocket
(the offline bot answers each one, so the bridge carries about twice that). It reports:

- time from process start to the first usable screen (the list filled and painted),
  measured in fresh processes started the way ``inbox-tui open`` starts (``--starts``
  of them, the median), split into interpreter start + imports and App start → painted;
- p50/p99 from a customer frame leaving the customer to the list row showing it
  (``time.monotonic`` is system-wide on Linux, so the two processes compare),
- the inbox process's memory (RSS now and peak).

Targets (issue #14): first usable screen ≤ 0.7 s from process start, imports
included; bridge event → screen p99 ≤ 30 ms and customer frame → list row p99 ≤ 50 ms
at 200 msg/s; inbox RSS ≤ 120 MB. ``run_all.py`` prints them beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":")
            values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def seed(url: str, conversations: int) -> str:
    """N live conversations written in bulk (setup, not under test); returns a teammate token."""
    import uuid

    from sqlalchemy import insert

    from inbox_tui.core.agents import add_agent
    from inbox_tui.core.conversations import hash_token
    from inbox_tui.core.migrate import ensure_schema
    from inbox_tui.core.models import Contact, Conversation
    from inbox_tui.core.store import Store

    store = Store(url)
    try:
        await ensure_schema(store)
        _agent, token = await add_agent(store, "bench", "Bench Agent")
        now = datetime.now(UTC)
        async with store.write() as session:
            await session.execute(
                insert(Contact),
                [
                    {
                        "id": i + 1,
                        "channel": "web",
                        "external_id": f"seed-{i}",
                        "name": f"Customer {i}",
                        "created_at": now,
                    }
                    for i in range(conversations)
                ],
            )
            await session.execute(
                insert(Conversation),
                [
                    {
                        "public_id": str(uuid.uuid4()),
                        "token_hash": hash_token(f"t{i}"),
                        "channel": "web",
                        "contact_id": i + 1,
                        "status": "live",
                        "ai_enabled": True,
                        "language": "en",
                        "created_at": now - timedelta(minutes=i),
                        "last_activity_at": now - timedelta(seconds=i),
                        "last_message_preview": f"question number {i}",
                        "message_count": 1,
                    }
                    for i in range(conversations)
                ],
            )
        return token
    finally:
        await store.close()


# ----- the load process --------------------------------------------------------------


async def generate_load(port: int, rate: float, seconds: float, customers: int, out: Path) -> None:
    from inbox_tui.client.customer import CustomerClient

    url = f"ws://127.0.0.1:{port}"
    clients = [CustomerClient(url, customer={"id": f"load-{i}", "name": f"Load {i}"}) for i in range(customers)]
    await asyncio.gather(*(client.connect() for client in clients))
    sent: list[tuple[int, float]] = []
    interval = customers / rate
    end = time.monotonic() + seconds

    async def customer(client: CustomerClient, offset: float) -> None:
        await asyncio.sleep(offset)
        due = time.monotonic()
        sequence = 0
        while time.monotonic() < end:
            sequence += 1
            started = time.monotonic()
            message_id = await client.send(f"load message {sequence} from {client.customer['id']}")
            sent.append((message_id, started))
            due += interval
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    await asyncio.gather(*(customer(c, i * interval / customers) for i, c in enumerate(clients)))
    await asyncio.gather(*(client.close() for client in clients))
    out.write_text(json.dumps(sent))


# ----- the first screen, in a process of its own ------------------------------------


async def first_paint(app: Any) -> None:
    """Until the inbox's first screen (its rows) is on the screen: the first refresh after
    ``ready`` (not ``Pilot.pause``, which waits for the CPU to be idle, and so for the
    counts and the team that are read after the first paint)."""
    await app.ready.wait()
    done = asyncio.Event()
    app.screen.call_after_refresh(done.set)
    await done.wait()


def first_screen_in_a_new_process(url: str, token: str, env: dict[str, str]) -> tuple[float, float]:
    """(seconds from process start to the inbox imported, then to its first screen painted).

    ``time.monotonic`` is system-wide, so the child's instants compare with the start here."""
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, __file__, "--first-screen", "--url", url, "--token", token],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    imported, shown = json.loads(child.stdout.strip().splitlines()[-1])
    return imported - started, shown - imported


def first_screen(url: str, token: str) -> None:
    """The child: starts as ``inbox-tui open`` does (``inbox_tui.entry``: the collector
    paused before the first import), paints the first screen headless, says when, quits."""
    from inbox_tui import collector

    collector.pause()
    from inbox_tui.settings import AISettings, Settings, TUISettings
    from inbox_tui.tui.app import InboxApp

    imported = time.monotonic()

    async def paint() -> float:
        settings = Settings(database_url=url, ai=AISettings(backend="offline"), tui=TUISettings(token=token))
        app = InboxApp(settings, cursor_blink=False, connect_bridge=False)
        async with app.run_test(size=(120, 40), headless=True):
            await first_paint(app)
            return time.monotonic()

    print(json.dumps([imported, asyncio.run(paint())]))


# ----- the inbox ---------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    url = f"sqlite+aiosqlite:///{folder / 'inbox.db'}"
    env = {
        **os.environ,
        "INBOX_DB_URL": url,
        "INBOX_AI": "offline",
        "INBOX_CONFIG_DIR": str(folder / "config"),
        "INBOX_DATA_DIR": str(folder / "data"),
        "TEXTUAL_ANIMATIONS": "none",
    }
    os.environ.update({k: env[k] for k in ("INBOX_CONFIG_DIR", "INBOX_DATA_DIR", "TEXTUAL_ANIMATIONS")})
    print(f"seeding {args.conversations} live conversations …", flush=True)
    token = await seed(url, args.conversations)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "inbox_tui", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    load: subprocess.Popen[str] | None = None
    try:
        assert server.stdout is not None
        print(server.stdout.readline().strip(), flush=True)

        from inbox_tui.settings import AISettings, Settings, TUISettings
        from inbox_tui.tui.app import InboxApp
        from inbox_tui.tui.bridge_status import BridgeState
        from inbox_tui.tui.live_updates import EventArrived
        from inbox_tui.tui.messages import MessagesShown
        from inbox_tui.tui.widgets.row_list import RowList

        settings = Settings(
            database_url=url,
            ai=AISettings(backend="offline"),
            tui=TUISettings(token=token, server_url=f"ws://127.0.0.1:{port}"),
        )
        # An installed inbox has its bytecode compiled (pip compiles a wheel's modules as it
        # installs them); a source tree run with PYTHONDONTWRITEBYTECODE would time the
        # compiler instead of the start.
        compileall.compile_dir(Path(__file__).resolve().parents[1] / "inbox_tui", quiet=1)
        starts = [first_screen_in_a_new_process(url, token, env) for _ in range(args.starts)]
        app_start = time.monotonic()
        app = InboxApp(settings, cursor_blink=False)
        # Observed through the messages the inbox posts, not through hooks in the product:
        # a bridge event arriving, and the messages of a repaint that showed them.
        shown: dict[int, float] = {}
        arrived: dict[int, float] = {}

        def observe(message: object) -> None:
            if isinstance(message, EventArrived) and message.event.message_id:
                arrived.setdefault(message.event.message_id, time.monotonic())
            elif isinstance(message, MessagesShown):
                now = time.monotonic()
                for message_id in message.message_ids:
                    shown.setdefault(message_id, now)

        async with app.run_test(size=(120, 40), headless=True, message_hook=observe):
            await first_paint(app)
            first_screen = time.monotonic()
            await app.started_up.wait()  # the counts, the team and the bridge follow the first paint
            rows = app.inbox.query_one("#rows", RowList)
            listed = rows.row_count
            while app.inbox.bridge_status.state is not BridgeState.CONNECTED:
                await asyncio.sleep(0.05)
            idle_rss, _ = rss_mb()
            sent_file = folder / "sent.json"
            load = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--load",
                    "--port",
                    str(port),
                    "--rate",
                    str(args.rate),
                    "--seconds",
                    str(args.seconds),
                    "--customers",
                    str(args.customers),
                    "--out",
                    str(sent_file),
                ],
                env=env,
            )
            while load.poll() is None:
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.0)  # the tail of the stream
            after_rows = rows.row_count
        rss_now, rss_peak = rss_mb()
        sent = json.loads(sent_file.read_text()) if sent_file.exists() else []
        latencies = [(shown[mid] - started) * 1000 for mid, started in sent if mid in shown]
        missing = sum(1 for mid, _ in sent if mid not in shown)
        duration = args.seconds
        print()
        print(f"conversations listed at start:   {listed}  (after the load: {after_rows})")
        imports, painted = (statistics.median(start[i] for start in starts) * 1000 for i in (0, 1))
        print(
            f"first usable screen:             {painted:.0f} ms from App start "
            f"(+ {imports:.0f} ms to start the interpreter and import the inbox, same process; "
            f"median of {len(starts)} starts, totals "
            f"{', '.join(f'{sum(start) * 1000:.0f}' for start in starts)} ms)"
        )
        print(
            f"  here, imports already loaded:  {(first_screen - app_start) * 1000:.0f} ms from App start "
            "to the painted list"
        )
        print(
            f"customer messages sent:          {len(sent)} in {duration:.0f} s "
            f"({len(sent) / duration:.0f}/s; the bot answers each)"
        )
        if latencies:
            print(
                f"frame → list row on screen:      p50 {statistics.median(latencies):.1f} ms, "
                f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms "
                f"({len(latencies)} measured, {missing} never shown)"
            )
        inside = [(shown[mid] - arrived[mid]) * 1000 for mid, _ in sent if mid in shown and mid in arrived]
        if inside:
            print(
                f"  of which bridge event → screen: p50 {statistics.median(inside):.1f} ms, "
                f"p99 {percentile(inside, 0.99):.1f} ms (the inbox's own share)"
            )
        print(
            f"inbox RSS:                       {idle_rss:.0f} MB idle with the list loaded, "
            f"{rss_now:.0f} MB after the load, peak {rss_peak:.0f} MB"
        )
    finally:
        if load is not None and load.poll() is None:
            load.kill()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="customer messages per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--starts", type=int, default=5, help="fresh processes timed to their first screen")
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first-screen", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        asyncio.run(generate_load(args.port, args.rate, args.seconds, args.customers, args.out))
    elif args.first_screen:
        first_screen(args.url, args.token)
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
