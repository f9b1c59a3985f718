"""What telling namesakes apart costs the live list (prints figures; run by hand).

    .venv/bin/python benchmarks/bench_row_list.py [--rows 10000] [--updates 2000] [--rounds 5]

A headless app holds the Conversations list (``RowList`` with the real row spec). It
times filling the list with ``--rows`` conversations (one in fifty shares its name with
another customer) and ``--updates`` live single-row upserts (a new message moves a row
to the top), then paints every visible line, with the namesake counting on (the spec
as shipped) and off (the same spec without ``namesake``: the baseline, measured in the
same run). Medians of ``--rounds`` rounds; the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from inbox_tui.core.records import ConversationRow
from inbox_tui.tui.widgets.inbox_rows import conversation_spec
from inbox_tui.tui.widgets.row_list import RowList, RowSpec

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def rows(count: int) -> list[ConversationRow]:
    made = []
    for i in range(count):
        # One in fifty is a namesake of the row before it (another customer, same name).
        name = f"Customer {i - 1 if i % 50 == 1 else i}"
        made.append(
            ConversationRow(
                i, f"p{i}", name, "web", "en", "live", True, "hello", 1, AT - timedelta(seconds=i), i, f"c{i}@x.io"
            )
        )
    return made


class ListApp(App[None]):
    def __init__(self, spec: RowSpec[ConversationRow]) -> None:
        super().__init__()
        self.spec = spec

    def compose(self) -> ComposeResult:
        yield RowList(self.spec)


async def one_round(spec: RowSpec[ConversationRow], records: list[ConversationRow], updates: int) -> tuple[float, ...]:
    app = ListApp(spec)
    async with app.run_test(size=(120, 40)) as pilot:
        rows_list = app.query_one(RowList)
        started = time.perf_counter()
        rows_list.replace_all(records)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        for n in range(updates):
            record = records[(n * 37) % len(records)]
            rows_list.upsert([replace(record, last_activity_at=AT + timedelta(seconds=n + 1), preview=f"new {n}")])
        upserted = time.perf_counter() - started
        started = time.perf_counter()
        for y in range(rows_list.scrollable_content_region.height):
            rows_list.render_line(y)
        painted = time.perf_counter() - started
        await pilot.pause()
    return filled, upserted, painted


async def run(args: argparse.Namespace) -> None:
    records = rows(args.rows)
    shipped = conversation_spec(lambda: AT + timedelta(hours=1))
    baseline = replace(shipped, namesake=None)
    results: dict[str, list[tuple[float, ...]]] = {"baseline (no namesakes)": [], "namesakes counted": []}
    for _ in range(args.rounds):  # interleaved, so a busy moment hits both alike
        results["baseline (no namesakes)"].append(await one_round(baseline, records, args.updates))
        results["namesakes counted"].append(await one_round(shipped, records, args.updates))
    print(f"rows={args.rows} updates={args.updates} rounds={args.rounds} loadavg={os.getloadavg()}")
    print(f"{'':26} {'fill ms':>9} {'upserts ms':>11} {'per upsert µs':>14} {'paint ms':>9}")
    for label, rounds in results.items():
        fill, upsert, paint = (statistics.median(r[i] for r in rounds) for i in range(3))
        print(
            f"{label:26} {fill * 1e3:9.1f} {upsert * 1e3:11.1f} {upsert / args.updates * 1e6:14.1f} {paint * 1e3:9.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--updates", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
