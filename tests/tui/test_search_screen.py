"""The search screen (``s`` and the palette), driven with the Pilot on the seeded inbox."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import OptionList, Select

from inbox_tui.core.conversations import record_customer_message
from inbox_tui.core.search import HitKind
from inbox_tui.tui.commands import ACTIONS
from inbox_tui.tui.screens.search import SearchScreen
from inbox_tui.tui.targets import ConversationTarget, TicketTarget
from inbox_tui.tui.widgets.thread_view import ThreadView
from tests.tui.conftest import Inbox, detail_target, screen_text, shown_ticket, wait_until
from tests.tui.seed import MARKUP_ATTACKS
from tests.tui.test_live_bridge import channel_server, started


async def _open_search(app: Any, pilot: Any) -> SearchScreen:
    await app.started_up.wait()
    await pilot.press("s")
    await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen), what="the search screen")
    return app.screen  # type: ignore[no-any-return]


async def _search_for(pilot: Any, screen: SearchScreen, words: str) -> None:
    await pilot.press(*words)
    await wait_until(
        pilot,
        lambda: screen.hits and not any(w.is_running for w in screen.workers if w.group == "search"),
        what=f"hits for {words!r}",
    )


async def test_s_finds_a_note_and_enter_opens_its_ticket(inbox: Inbox) -> None:
    app = inbox.app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_search(app, pilot)
        await _search_for(pilot, screen, "bounces")

        assert [(hit.kind, hit.ticket_id) for hit in screen.hits] == [(HitKind.NOTE, inbox.seeded.ticket_on_ana)]
        assert "bounces" in screen_text(app)
        await pilot.press("enter")  # from the query: to the results
        assert screen.query_one("#search-results", OptionList).has_focus
        await pilot.press("enter")  # opens the highlighted hit

        await wait_until(pilot, lambda: shown_ticket(app) is not None, what="the ticket")
        assert detail_target(app) == TicketTarget(inbox.seeded.ticket_on_ana)
        assert not isinstance(app.screen, SearchScreen)


async def test_a_message_hit_opens_at_the_matching_message(inbox: Inbox) -> None:
    store = inbox.store()
    try:
        for n in range(40):  # a long thread: the match must be scrolled to, not off screen
            await record_customer_message(store, inbox.seeded.live_ids[0], f"filler line {n}")
        await record_customer_message(store, inbox.seeded.live_ids[0], "my zebra parcel")
        for n in range(40):
            await record_customer_message(store, inbox.seeded.live_ids[0], f"more filler {n}")
    finally:
        await store.close()
    app = inbox.app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_search(app, pilot)
        await _search_for(pilot, screen, "zebra")
        hit = screen.hits[0]
        assert (hit.kind, hit.conversation_id, hit.ticket_id) == (HitKind.MESSAGE, inbox.seeded.live_ids[0], None)
        await pilot.press("down", "enter")

        await wait_until(pilot, lambda: detail_target(app) == ConversationTarget(inbox.seeded.live_ids[0]))
        thread = app.inbox.detail.query_one("#conversation-thread", ThreadView)
        await wait_until(pilot, lambda: "zebra" in thread.plain and thread.scroll_y > 0, what="scrolled")
        await pilot.pause(0.1)
        assert thread.has_focus
        assert 0 < thread.scroll_y < thread.max_scroll_y  # at the match, not pinned to the end
        assert "zebra" in screen_text(app)


@pytest.mark.parametrize("attack", MARKUP_ATTACKS)
async def test_results_show_customer_text_literally(inbox: Inbox, attack: str) -> None:
    store = inbox.store()
    try:
        await record_customer_message(store, inbox.seeded.live_ids[0], f"stripe {attack} refund")
    finally:
        await store.close()
    app = inbox.app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open_search(app, pilot)
        await _search_for(pilot, screen, "stripe")
        text = screen_text(app)
        visible = attack.replace("\x1b", "␛").replace("\x07", "␇")
        assert visible in text  # shown as typed, not styled or run
        assert app.is_running


async def test_filters_narrow_the_results(inbox: Inbox) -> None:
    app = inbox.app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_search(app, pilot)
        await _search_for(pilot, screen, "check")  # the bot's "Let me check that for you."
        everywhere = {hit.conversation_id for hit in screen.hits}
        assert len(everywhere) == 5

        screen.query_one("#filter-channel", Select).value = "whatsapp"
        await wait_until(pilot, lambda: {hit.channel for hit in screen.hits} == {"whatsapp"}, what="whatsapp")
        screen.query_one("#filter-channel", Select).clear()
        # A message counts under its conversation's current ticket (Sam's, and Maria's new one).
        screen.query_one("#filter-status", Select).value = "open"
        open_tickets = {inbox.seeded.ticket_on_ana, inbox.seeded.unassigned_ticket}
        await wait_until(
            pilot, lambda: {hit.ticket_id for hit in screen.hits} == open_tickets, what="open tickets only"
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SearchScreen), what="closed")


async def test_nothing_found_and_hostile_queries_are_said_not_raised(inbox: Inbox) -> None:
    app = inbox.app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_search(app, pilot)
        await pilot.press(*'"( NEAR -x* OR ', "enter")
        await wait_until(
            pilot,
            lambda: (
                not any(w.is_running for w in screen.workers if w.group == "search")
                and "Nothing found." in screen_text(app)
            ),
            what="nothing found",
        )


async def test_open_results_follow_a_new_message_and_the_cursor_stays_on_its_hit(inbox: Inbox) -> None:
    live = inbox.seeded.live_ids
    store = inbox.store()
    try:
        await record_customer_message(store, live[0], "the quokka parcel is late")
        await record_customer_message(store, live[1], "a quokka sticker was missing")
    finally:
        await store.close()
    async with channel_server(inbox) as server:
        app = inbox.app(server_url=server.url, connect_bridge=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            screen = await _open_search(app, pilot)
            await _search_for(pilot, screen, "quokka")
            assert len(screen.hits) == 2
            results = screen.query_one("#search-results", OptionList)
            await pilot.press("down", "down")  # into the results, then onto the second hit
            chosen = screen.hits[1]
            assert results.highlighted == 1

            store = inbox.store()
            try:  # a customer writes: committed, then announced through the bridge
                await record_customer_message(store, live[2], "quokka again: where is it?")
            finally:
                await store.close()
            await wait_until(pilot, lambda: len(screen.hits) == 3, what="the new message among the results")
            assert "where is it?" in screen_text(app)
            index = results.highlighted
            assert index is not None
            assert (screen.hits[index].kind, screen.hits[index].ref_id) == (chosen.kind, chosen.ref_id)
            assert index != 1  # the hit moved (the newest of equals ranks first), the cursor with it
            assert results.has_focus


def test_the_palette_offers_search() -> None:
    assert ("Search everything", "search") in [(title, action) for title, action, _ in ACTIONS]


def test_search_screen_snapshot(snap_compare: Any, inbox: Inbox) -> None:
    app = inbox.app()

    async def run_before(pilot: Any) -> None:
        screen = await _open_search(app, pilot)
        await _search_for(pilot, screen, "pedido")
        await pilot.press("down")
        await pilot.pause(0.1)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)
