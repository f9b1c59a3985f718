"""Benchmark of the attention loop's queries on a large database (prints figures; run by hand).

    .venv/bin/python benchmarks/bench_attention.py [--conversations 10000] [--messages 200000]

Fills a SQLite file like ``bench_core.py`` (bulk inserts: live conversations, messages,
open and closed tickets), marks a share of the conversations read for the busiest
teammate, then times what the inbox runs for that teammate:

- a whole list (up to 10,000 rows, as the inbox loads it) without and with the
  attention fields (unread counts, waiting, latest message): ``views.page`` against
  ``attention.page``, for Conversations and All open;
- the unread counts of every view (``attention.unread_view_counts``);
- the check for customers who waited past the threshold (``alerts.overdue_tickets``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import fill, report, timed

from inbox_tui.core import alerts, attention, views
from inbox_tui.core.migrate import upgrade
from inbox_tui.core.read_state import mark_read
from inbox_tui.core.store import Store
from inbox_tui.core.views import View

LIST_LIMIT = 10_000


async def run(args: argparse.Namespace) -> None:
    path = Path(tempfile.mkdtemp(prefix="inbox-bench-attention-")) / "bench.db"
    store = Store(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(store)
        began = time.perf_counter()
        filled = await fill(store, args.conversations, args.messages)
        me = filled.busiest_agent
        for conversation_id in filled.live_conversations[: len(filled.live_conversations) // 3]:
            await mark_read(store, me, conversation_id)
        print(
            f"sqlite: {args.conversations:,} live conversations, {args.messages:,} messages, "
            f"{len(filled.open_tickets):,} open tickets; filled and a third marked read in "
            f"{time.perf_counter() - began:.1f} s",
            flush=True,
        )

        async def page(view: View, annotated: bool) -> int:
            async with store.read() as session:
                if annotated:
                    return len(await attention.page(session, view, me, limit=LIST_LIMIT))
                return len(await views.page(session, view, me, limit=LIST_LIMIT))

        for view in (View.CONVERSATIONS, View.ALL_OPEN, View.ON_YOU):
            rows = await page(view, False)
            plain = await timed(args.samples, lambda _, v=view: page(v, False), 2)  # type: ignore[misc]
            report(f"{view.label} list ({rows:,} rows), plain", plain, None)
            annotated = await timed(args.samples, lambda _, v=view: page(v, True), 2)  # type: ignore[misc]
            report(f"{view.label} list, with attention", annotated, None)

        async def unread_counts(_: int) -> None:
            async with store.read() as session:
                await attention.unread_view_counts(session, me)

        report("unread counts of every view", await timed(args.samples, unread_counts, 2), None)

        async def overdue(_: int) -> None:
            async with store.read() as session:
                await alerts.overdue_tickets(session, me, timedelta(minutes=5), store.now())

        report("overdue tickets (waiting check)", await timed(args.samples, overdue, 2), None)
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=10)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
