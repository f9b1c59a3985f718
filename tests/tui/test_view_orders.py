"""Each view keeps the sort order chosen for it (``w``): across view switches, across a
restart, and per teammate."""

from __future__ import annotations

from typing import Any

from inbox_tui.core.attention import SortOrder
from inbox_tui.core.views import View
from inbox_tui.settings import data_dir
from inbox_tui.tui.view_orders import ViewOrders
from tests.tui.conftest import Inbox, wait_until
from tests.tui.test_app_keys import running

WAITING = "longest waiting first"


def title(app: Any) -> str:
    return str(app.inbox.list_pane.border_title)


async def shown(pilot: Any, app: Any, key: str, view: View) -> None:
    await pilot.press(key)
    await wait_until(
        pilot,
        lambda: app.inbox.view is view and title(app).startswith(f"{view.label} · ") and app.inbox.rows.row_count,
        what=f"the {view.label} view",
    )


async def test_a_view_keeps_its_order_across_switches_and_a_restart(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        await shown(pilot, app, "4", View.ALL_OPEN)
        await pilot.press("w")
        await wait_until(pilot, lambda: WAITING in title(app), what="longest waiting first")
        await shown(pilot, app, "2", View.ON_YOU)
        assert WAITING not in title(app)  # another view keeps its own order
        await shown(pilot, app, "4", View.ALL_OPEN)
        assert WAITING in title(app)
        records = [app.inbox.rows.record(k) for k in app.inbox.rows.keys]
        waiting = [r.waiting_since for r in records if r.waiting_since is not None]
        assert waiting and waiting == sorted(waiting)

    again = inbox.app()
    async with running(again) as pilot:
        await shown(pilot, again, "4", View.ALL_OPEN)
        assert WAITING in title(again)
        await pilot.press("w")  # and back to newest first, remembered too
        await wait_until(pilot, lambda: WAITING not in title(again), what="newest first")
    assert ViewOrders.for_agent("ana").get(View.ALL_OPEN) is SortOrder.NEWEST


async def test_the_order_is_each_teammates_own(inbox: Inbox) -> None:
    ViewOrders.for_agent("ana").set(View.ALL_OPEN, SortOrder.LONGEST_WAITING)
    bob = inbox.app(token="bob")
    async with running(bob) as pilot:
        await shown(pilot, bob, "4", View.ALL_OPEN)
        assert WAITING not in title(bob)


def test_a_broken_file_means_newest_first(inbox: Inbox) -> None:
    path = data_dir() / "view-orders-ana.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"all_open": "sideways", "on_you": 3, "nope": "waiting"', encoding="utf-8")
    assert ViewOrders.for_agent("ana").get(View.ALL_OPEN) is SortOrder.NEWEST
    path.write_text('{"all_open": "sideways", "on_you": "waiting", "nope": "waiting"}', encoding="utf-8")
    orders = ViewOrders.for_agent("ana")
    assert orders.get(View.ALL_OPEN) is SortOrder.NEWEST
    assert orders.get(View.ON_YOU) is SortOrder.LONGEST_WAITING
