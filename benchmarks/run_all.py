"""One command for the whole speed table (prints figures; run by hand).

    .venv/bin/python benchmarks/run_all.py              # everything (several minutes)
    .venv/bin/python benchmarks/run_all.py --short      # fewer messages and sockets, a short inbox run
    .venv/bin/python benchmarks/run_all.py --no-postgresql --no-tui --no-load --idle 10000

Prints, with the machine's cores and load average beside it:

- the channel (``inbox-tui serve``, offline bot) against a plain ``websockets`` echo
  server, same clients, same run: messages a second flat out at 50 and 100 customers,
  on SQLite and on PostgreSQL, and the ratio to the echo;
- round-trip p99 at 100 customers paced at 20 msg/s in all;
- the server's start time (spawn → listening) and idle RSS;
- server memory per idle customer socket (after the hello), against the echo's;
- the inbox (``bench_tui.py``): customer frame → list row on screen, bridge event →
  screen, first usable screen, RSS.

The machine may be shared: absolute figures move with the load, the ratio to the echo
measured in the same run is the steadier figure. The table is Markdown, ready for README.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_channel import (
    TARGET_P99_MS,
    TARGET_PG_RATE,
    TARGET_RATIO,
    Result,
    ServerProcess,
    channel_env,
    idle_memory,
    measure_channel,
    measure_echo,
)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def cpu_times() -> list[int] | None:
    """The machine's CPU counters (Linux /proc/stat: user … steal), or None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            return [int(field) for field in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None


RUN_STARTED = cpu_times()


def machine() -> str:
    """Cores, load, and the share of CPU time the host took from this machine since the
    run began (steal: on a shared virtual machine the same code runs slower with it)."""
    one, five, _ = os.getloadavg()
    line = f"{os.cpu_count()} cores, load average {one:.1f} (5 min {five:.1f})"
    now = cpu_times()
    if RUN_STARTED is not None and now is not None:
        spent = [after - before for before, after in zip(RUN_STARTED, now, strict=True)]
        if sum(spent) > 0:
            line += f", CPU stolen by the host {spent[7] * 100 / sum(spent):.0f} %"
    return line


class Table:
    """Rows of (measure, value, target), printed as they come and again at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, measure: str, value: str, target: str = "") -> None:
        self.rows.append((measure, value, target))
        print(f"  {measure}: {value}  {target}", flush=True)

    def markdown(self) -> str:
        lines = ["| measure | figure | target |", "|---|---|---|"]
        lines += [f"| {m} | {v} | {t} |" for m, v, t in self.rows]
        return "\n".join(lines)


async def start_channel(database_url: str, workdir: Path) -> tuple[ServerProcess, float]:
    began = time.perf_counter()
    server = await ServerProcess.start(
        [sys.executable, "-m", "inbox_tui", "serve", "--port", "0"], channel_env(database_url, workdir)
    )
    return server, time.perf_counter() - began


async def start_echo() -> ServerProcess:
    script = str(Path(__file__).parent / "bench_channel.py")
    return await ServerProcess.start([sys.executable, script, "--echo-server"], dict(os.environ))


async def postgresql_database(admin_url: str) -> tuple[str, str]:
    import asyncpg

    name = "inbox_runall_" + uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}", name


async def drop_postgresql(admin_url: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def channel_rows(backend: str, database_url: str, args: argparse.Namespace, table: Table) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"run-all-{backend}-"))
    channel, start_seconds = await start_channel(database_url, workdir)
    echo = await start_echo()
    try:
        print(f"\n== channel on {backend} ({machine()})", flush=True)
        await measure_echo(echo.url, 10, 3)
        await measure_channel(channel.url, 10, 3)
        await asyncio.sleep(0.5)
        table.add(f"server start, spawn → listening ({backend})", f"{start_seconds * 1000:.0f} ms")
        table.add(f"server idle RSS ({backend}, warmed up)", f"{channel.rss_kib() / 1024:.0f} MiB", "≤ 150 MiB")
        if backend == "SQLite" and args.idle:
            channel_kib = await idle_memory(channel, True, args.idle)
            echo_kib = await idle_memory(echo, False, args.idle)
            table.add(
                f"memory per idle customer socket ({args.idle:,} sockets)",
                f"{channel_kib:.1f} KiB (echo {echo_kib:.1f} KiB); server RSS then {channel.rss_kib() / 1024:.0f} MiB",
                "≤ 20 KiB",
            )
        for customers in () if args.no_load else (50, 100):
            rounds = args.messages
            echo_result = await measure_echo(echo.url, customers, max(rounds, args.echo_messages // customers))
            cpu_before = channel.cpu_seconds()
            result = await measure_channel(channel.url, customers, rounds)
            cpu = (channel.cpu_seconds() - cpu_before) * 1000 / result.messages
            target = f"≥ {TARGET_RATIO}× echo"
            if backend == "PostgreSQL" and customers == 100:
                target += f", ≥ {TARGET_PG_RATE:,.0f} msg/s"
            ratio = result.rate / echo_result.rate
            table.add(
                f"channel, {customers} customers flat out ({backend})",
                f"{result.rate:,.0f} msg/s vs echo {echo_result.rate:,.0f} = **{ratio:.3f}×**; "
                f"p99 {result.percentile(0.99):.1f} ms; server CPU {cpu:.2f} ms/round trip",
                target,
            )
        if args.paced and not args.no_load:
            paced_echo: Result = await measure_echo(echo.url, 100, args.paced, 5.0)
            paced = await measure_channel(channel.url, 100, args.paced, 5.0)
            table.add(
                f"round trip, 100 customers paced at 20 msg/s ({backend})",
                f"p50 {paced.percentile(0.5):.1f} ms, **p99 {paced.percentile(0.99):.1f} ms** "
                f"(echo p99 {paced_echo.percentile(0.99):.1f} ms)",
                f"p99 ≤ {TARGET_P99_MS:.0f} ms",
            )
        print(f"  ({machine()} at the end)", flush=True)
    finally:
        await asyncio.gather(channel.stop(), echo.stop())


TUI_FIGURES = {
    "first usable screen": re.compile(
        r"first usable screen:\s+(\d+) ms from App start \(\+ (\d+) ms.*?totals ([\d, ]+) ms", re.DOTALL
    ),
    "frame": re.compile(r"frame → list row on screen:\s+p50 ([\d.]+) ms, p99 ([\d.]+) ms"),
    "bridge": re.compile(r"bridge event → screen: p50 ([\d.]+) ms, p99 ([\d.]+) ms"),
    "rss": re.compile(r"inbox RSS:\s+(\d+) MB idle .*?, (\d+) MB after the load, peak (\d+) MB"),
    "sent": re.compile(r"customer messages sent:\s+(\d+) in (\d+) s"),
}


def tui_rows(args: argparse.Namespace, table: Table) -> None:
    print(f"\n== inbox (bench_tui.py, {args.tui_conversations:,} conversations) ({machine()})", flush=True)
    command = [
        sys.executable,
        str(Path(__file__).parent / "bench_tui.py"),
        "--conversations",
        str(args.tui_conversations),
        "--seconds",
        str(args.tui_seconds),
        "--rate",
        "200",
    ]
    output = subprocess.run(command, capture_output=True, text=True, timeout=900).stdout
    found = {key: pattern.search(output) for key, pattern in TUI_FIGURES.items()}
    if not all(found.values()):
        print(output)
        table.add("inbox", "bench_tui.py printed no figures (output above)")
        return
    frame, bridge, screen, rss, sent = (found[k] for k in ("frame", "bridge", "first usable screen", "rss", "sent"))
    assert frame and bridge and screen and rss and sent
    rate = int(sent.group(1)) / int(sent.group(2))
    table.add(
        f"inbox: customer frame → list row on screen ({rate:.0f} msg/s, {args.tui_conversations:,} conversations)",
        f"p50 {frame.group(1)} ms, **p99 {frame.group(2)} ms**",
        "p99 ≤ 50 ms",
    )
    table.add("inbox: bridge event → screen", f"p50 {bridge.group(1)} ms, **p99 {bridge.group(2)} ms**", "p99 ≤ 30 ms")
    # Each start from process start to the painted list; the median start, and every one.
    totals = [int(total) for total in screen.group(3).split(",")]
    table.add(
        "inbox: first usable screen",
        f"**{statistics.median(totals):.0f} ms** median of {len(totals)} fresh processes "
        f"({', '.join(map(str, totals))} ms; medians {screen.group(2)} ms imports + {screen.group(1)} ms "
        "App start → painted list)",
        "≤ 700 ms",
    )
    table.add(
        "inbox RSS", f"{rss.group(1)} MB idle, {rss.group(2)} MB after the load, peak {rss.group(3)} MB", "≤ 120 MB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="fewer messages and sockets, a 5 s inbox run")
    parser.add_argument("--messages", type=int, default=None, help="messages per customer flat out (default 20)")
    parser.add_argument("--idle", type=int, default=None, help="idle customer sockets for the memory row (0: skip)")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--no-tui", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="only start time and memory, no messages")
    parser.add_argument("--pg-admin", default=PG_ADMIN, help="PostgreSQL database to CREATE the benchmark's from")
    args = parser.parse_args()
    args.messages = args.messages or (6 if args.short else 20)
    args.idle = (300 if args.short else 1000) if args.idle is None else args.idle
    args.echo_messages = 20_000 if args.short else 100_000
    args.paced = 3 if args.short else 8
    args.tui_conversations = 10_000
    args.tui_seconds = 5 if args.short else 20

    from inbox_tui.channel.event_loop import loop_name

    print(f"python {sys.version.split()[0]}, {machine()}, server event loop {loop_name()}", flush=True)
    table = Table()
    workdir = Path(tempfile.mkdtemp(prefix="run-all-"))
    await channel_rows("SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", args, table)
    if not args.no_postgresql:
        url, name = await postgresql_database(args.pg_admin)
        try:
            await channel_rows("PostgreSQL", url, args, table)
        finally:
            await drop_postgresql(args.pg_admin, name)
    if not args.no_tui:
        tui_rows(args, table)
    print(f"\n{machine()}, python {sys.version.split()[0]}, server event loop {loop_name()}\n")
    print(table.markdown())


if __name__ == "__main__":
    asyncio.run(main())
