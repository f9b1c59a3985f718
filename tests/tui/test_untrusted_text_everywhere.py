"""Customer and teammate text reaches the screen literally everywhere it is shown: every
toast (new ticket, mention, lost race, reassign), headers, the status bar and palette
entries. Each check reads what is rendered, so it fails if a toast loses ``markup=False``
or a header parses markup."""

from __future__ import annotations

from typing import Any

import pytest
from textual.fuzzy import Matcher
from textual.widgets._toast import Toast

from inbox_tui.core.agents import add_agent
from inbox_tui.core.conversations import record_customer_message, start_conversation
from inbox_tui.core.escalation import escalate
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import TicketSource
from inbox_tui.tui.commands import literal_highlight
from inbox_tui.tui.live_updates import EventArrived, LiveEvent
from inbox_tui.tui.screens.reassign import ReassignScreen
from inbox_tui.tui.targets import ConversationTarget
from inbox_tui.tui.widgets.inbox_rows import ticket_key
from inbox_tui.tui.widgets.row_list import RowList
from tests.tui.conftest import Inbox, screen_text, shown_ticket, wait_until

CORPUS = (
    "[@click=app.quit]x[/]",
    "[b]bold?[/b]",
    "\x1b]52;c;cGF3bmVk\x07",
    "[link=https://evil.example]go[/link]",
    "[red on white]loud[/]",
)


def visible(text: str) -> str:
    return text.replace("\x1b", "␛").replace("\x07", "␇")


def toast_texts(app: Any) -> list[str]:
    """What the toasts on screen render, as plain text."""
    return [" ".join(str(toast.render().plain).split()) for toast in app.screen.query(Toast)]


async def shown_in_a_toast(pilot: Any, app: Any, needle: str) -> None:
    await wait_until(pilot, lambda: any(needle in text for text in toast_texts(app)), what=f"a toast with {needle!r}")


@pytest.fixture
def hostile(inbox: Inbox) -> Any:
    """Per attack: a teammate and a customer named with it, and their tickets."""

    async def build(attack: str) -> dict[str, int]:
        store = inbox.store()
        try:
            eve, _token = await add_agent(store, "eve", f"Eve {attack}")
            started = await start_conversation(store, channel="web", customer_id="mallory", name=f"Mal {attack}")
            await record_customer_message(store, started.conversation.id, "hello", client_id="m-1")
            held = await escalate(store, started.conversation.id, source=TicketSource.TAKEOVER, actor_id=eve.id)
            live = await start_conversation(store, channel="web", customer_id="oscar", name="Oscar")
            await record_customer_message(store, live.conversation.id, "a question", client_id="o-1")
            return {"eve": eve.id, "held": held.ticket_id, "raced": live.conversation.id}
        finally:
            await store.close()

    return build


@pytest.mark.parametrize("attack", CORPUS)
async def test_every_toast_and_header_shows_names_literally(inbox: Inbox, hostile: Any, attack: str) -> None:
    made = await hostile(attack)
    shown = visible(attack)
    app = inbox.app()
    async with app.run_test(size=(140, 40), notifications=True) as pilot:  # toasts rendered
        await app.started_up.wait()
        me = inbox.seeded.ana_id
        # A ticket routed to me (a bridge event), and a mention by a hostile handle.
        app.inbox.post_message(
            EventArrived(LiveEvent(id=10_001, kind=EventKind.TICKET_CREATED, ticket_id=made["held"], agent_id=me))
        )
        await shown_in_a_toast(pilot, app, f"New ticket #{made['held']} on you: Mal {shown}")
        app.inbox.post_message(
            EventArrived(LiveEvent(id=10_002, kind=EventKind.MENTION, ticket_id=made["held"], agent_id=me, by=attack))
        )
        await shown_in_a_toast(pilot, app, f"@{shown} mentioned you on ticket #{made['held']}")
        # Take over a conversation Eve holds already: the lost race names her.
        rows = app.inbox.query_one("#rows", RowList)
        app.inbox.detail.target = ConversationTarget(made["raced"])
        await wait_until(pilot, lambda: app.inbox.detail.shown_conversation is not None)
        store = inbox.store()
        try:  # Eve takes it first, from another client.
            await escalate(store, made["raced"], source=TicketSource.TAKEOVER, actor_id=made["eve"])
        finally:
            await store.close()
        await pilot.press("t")
        await shown_in_a_toast(pilot, app, f"already held by Eve {shown} (@eve)")
        # Her ticket's header says who holds it, from my side, literally.
        await wait_until(pilot, lambda: shown_ticket(app) is not None)
        assert f"On Eve {shown} (@eve)" in screen_text(app)
        # Reassign Mal's ticket to Eve from the picker: the toast names her.
        await pilot.press("4")
        await wait_until(pilot, lambda: ticket_key(made["held"]) in rows.keys)
        rows.select_key(ticket_key(made["held"]))
        await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == made["held"])
        assert f"Mal {shown}" in screen_text(app)  # the requester in the header
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, ReassignScreen))
        assert f"Eve {shown}"[:20] in screen_text(app)
        picker = app.screen.query_one("#teammates")
        picker.highlighted = next(i for i, option in enumerate(picker.options) if option.id == str(made["eve"]))
        await pilot.press("enter")
        await shown_in_a_toast(pilot, app, f"→ Eve {shown} (@eve)")
        assert app.is_running


@pytest.mark.parametrize("attack", CORPUS)
async def test_my_own_name_in_the_status_bar_is_literal(inbox: Inbox, attack: str) -> None:
    store = inbox.store()
    try:
        _agent, token = await add_agent(store, "zed", f"Zed {attack}")
    finally:
        await store.close()
    app = inbox.app(token)
    async with app.run_test(size=(140, 30)) as pilot:
        await app.started_up.wait()
        await pilot.pause()
        assert f"Zed {visible(attack)} (@zed)" in screen_text(app)


@pytest.mark.parametrize("attack", CORPUS)
def test_palette_entries_are_never_parsed_as_markup(attack: str) -> None:
    title = f"Theme: {attack}"
    highlighted = literal_highlight(Matcher("theme"), title)
    assert highlighted.plain == visible(title)
