"""`/` and letters in the composer complete the team's saved replies; Tab inserts the one
in the customer's language, placeholders filled, for the teammate to edit."""

from __future__ import annotations

import pytest

from inbox_tui.core import saved_replies
from inbox_tui.core.saved_replies import Reply
from tests.tui.conftest import Inbox, screen_text, wait_until
from tests.tui.test_app_keys import running
from tests.tui.test_untrusted_text_everywhere import CORPUS, visible


async def _seed_replies(inbox: Inbox) -> None:
    store = inbox.store()
    try:
        await saved_replies.save(store, Reply("reset", "Password reset", "Hello {customer.name} (default)"))
        await saved_replies.save(
            store, Reply("reset", "Password reset", "Hi {customer.name}, see {ticket.number}. {agent.name}", "en")
        )
        await saved_replies.save(store, Reply("hours", "Opening hours", "9 to 5"))
    finally:
        await store.close()


async def test_slash_completes_and_tab_inserts_the_customers_version(inbox: Inbox) -> None:
    await _seed_replies(inbox)
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        composer = app.inbox.composer
        await pilot.press("r")
        await wait_until(pilot, lambda: composer.saved, what="the saved replies loaded")
        await pilot.press(*"Thanks! /re")
        await wait_until(pilot, lambda: [r.shortcut for r in composer.reply_completions] == ["reset"])
        assert "/reset" in screen_text(app) and "Password reset" in screen_text(app)

        await pilot.press("tab")

        ticket = inbox.seeded.ticket_on_ana
        assert composer.text == f"Thanks! Hi Sam Lee, see #{ticket}. Ana Lima"  # Sam writes English
        assert composer.input.has_focus  # still editing, nothing sent
        assert composer.reply_completions == []


async def test_a_slash_alone_or_an_unknown_shortcut_is_just_text(inbox: Inbox) -> None:
    await _seed_replies(inbox)
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        composer = app.inbox.composer
        await pilot.press("r")
        await wait_until(pilot, lambda: composer.saved, what="the saved replies loaded")
        await pilot.press(*"a/b and /zzz")
        await pilot.pause(0.1)
        assert composer.reply_completions == []
        assert composer.text == "a/b and /zzz"
        assert not app.inbox.list_pane.filter_open  # `/` typed in the composer is text


@pytest.mark.parametrize("attack", CORPUS)
async def test_a_saved_replys_title_and_body_are_shown_and_inserted_literally(inbox: Inbox, attack: str) -> None:
    """A teammate's saved reply is text: its title in the completion list and its body in
    the composer are shown as written, never parsed as markup."""
    store = inbox.store()
    try:
        await saved_replies.save(store, Reply("odd", f"Title {attack}", f"Body {attack}"))
    finally:
        await store.close()
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        composer = app.inbox.composer
        await pilot.press("r")
        await wait_until(pilot, lambda: composer.saved, what="the saved replies loaded")
        await pilot.press(*"/od")
        await wait_until(pilot, lambda: [r.shortcut for r in composer.reply_completions] == ["odd"])
        assert f"Title {visible(attack)}"[:20] in screen_text(app)  # titles are cut at 30 cells
        await pilot.press("tab")
        assert composer.text == f"Body {attack}"
        assert app.is_running
