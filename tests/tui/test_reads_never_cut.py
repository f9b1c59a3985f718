"""A store read the inbox started is never cut off half-way.

The list, the detail and the counts load in exclusive workers: a newer load cancels the
older one, and Textual cancels every unfinished worker of the group again each time one
more starts. A cancel that landed in a query, then a second one in SQLAlchemy's clean-up,
left "Exception during reset" with a ``CancelledError`` and an abandoned graceful close
("Task was destroyed but it is pending! … _terminate_graceful_close()") in the log. Here
a read is held inside a real SQLite query (a function of the connection that waits)
while newer loads of the same pane start; the log must stay clean.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from inbox_tui.core import views
from inbox_tui.tui.widgets.row_list import RowList
from tests.tui.conftest import Inbox, shown_ticket, wait_until

#: What a read cut off half-way leaves in the log.
CUT_READ_SIGNS = (
    "CancelledError",
    "Task was destroyed but it is pending",
    "_terminate_graceful_close",
    "Exception during reset",
    "Exception terminating connection",
)


def cut_reads(records: list[logging.LogRecord]) -> list[str]:
    found = []
    for record in records:
        text_ = record.getMessage()
        if record.exc_info:
            text_ += logging.Formatter().formatException(record.exc_info)
        if record.levelno >= logging.WARNING and any(sign in text_ for sign in CUT_READ_SIGNS):
            found.append(f"{record.name}: {text_[:300]}")
    return found


class HeldQuery:
    """The first read through the patched view function waits inside a SQLite query
    until ``release()``: the moment a cancel can cut it."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self._release = threading.Event()
        self._armed = True

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        async def held(session: Any, *args: Any, **kwargs: Any) -> Any:
            if self._armed:
                self._armed = False
                raw = await (await session.connection()).get_raw_connection()
                await raw.driver_connection.create_function("inbox_test_hold", 0, self._hold)
                await session.execute(text("SELECT inbox_test_hold()"))
            return await function(session, *args, **kwargs)

        return held

    def _hold(self) -> int:
        self.inside.set()
        self._release.wait(30)
        return 1

    def release(self) -> None:
        self._release.set()

    @property
    def released(self) -> bool:
        return self._release.is_set()


@pytest.mark.parametrize("pane", ["detail", "list", "counts"])
async def test_newer_loads_never_cut_a_read_in_flight(
    inbox: Inbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, pane: str
) -> None:
    caplog.set_level(logging.WARNING)
    held = HeldQuery()
    app = inbox.app()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.started_up.wait()
            await pilot.press("2")
            await wait_until(pilot, lambda: shown_ticket(app) is not None, what="the ticket on ana")
            screen = app.inbox
            load: Callable[[], None]
            if pane == "detail":
                monkeypatch.setattr(views, "ticket_detail", held.wrap(views.ticket_detail))
                load = screen.detail.reload
            elif pane == "list":
                monkeypatch.setattr(views, "page", held.wrap(views.page))
                load = screen.list_pane.load
            else:
                monkeypatch.setattr(views, "counts", held.wrap(views.counts))
                load = screen._refresh_counts
            load()
            await wait_until(pilot, held.inside.is_set, what="a read held inside its query")
            load()  # cancels the held one
            await pilot.pause()
            load()  # and cancels it again while it unwinds
            await pilot.pause()
            held.release()
            rows = screen.query_one("#rows", RowList)
            await wait_until(pilot, lambda: len(app.workers) <= 2 and rows.row_count > 0, what="the loads to end")
            await pilot.pause()
    finally:
        held.release()
    gc.collect()
    assert cut_reads(caplog.records) == []


async def test_quitting_with_a_read_in_flight_lets_it_end_before_the_store_closes(
    inbox: Inbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING)
    held = HeldQuery()
    app = inbox.app()
    closed_while_held: list[bool] = []
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.started_up.wait()
            await pilot.pause()
            monkeypatch.setattr(views, "counts", held.wrap(views.counts))
            app.inbox._refresh_counts()
            await wait_until(pilot, held.inside.is_set, what="a read held inside its query")
            runtime = app.runtime
            close = runtime.close

            async def close_after_the_read() -> None:
                closed_while_held.append(not held.released)
                await close()

            monkeypatch.setattr(runtime, "close", close_after_the_read)
            # The read ends a moment after quitting began (from the database's thread).
            threading.Timer(0.3, held.release).start()
            app.exit()
    finally:
        held.release()
    gc.collect()
    assert closed_while_held == [False], "the store closed under a read still running"
    assert cut_reads(caplog.records) == []
