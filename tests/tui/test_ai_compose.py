"""AI compose from the composer: draft, polish, translate — through the real openai SDK
against the loopback test server, and clearly unavailable offline."""

from __future__ import annotations

from inbox_tui.settings import AISettings
from inbox_tui.tui.widgets.composer import Composer
from tests.support.fake_openai import Behaviour, FakeOpenAI
from tests.tui.conftest import Inbox, notifications, shown_ticket, wait_until


async def open_ticket_composer(app, pilot, inbox: Inbox) -> Composer:  # type: ignore[no-untyped-def]
    await app.started_up.wait()
    await pilot.press("2")
    await wait_until(
        pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == inbox.seeded.ticket_on_ana
    )
    await pilot.press("r")
    return app.inbox.query_one(Composer)


async def test_draft_polish_and_translate_fill_the_composer(inbox: Inbox) -> None:
    with FakeOpenAI() as fake:
        ai = AISettings(backend="openai", api_key="test-key", base_url=fake.base_url, timeout=5)
        app = inbox.app(ai=ai)
        async with app.run_test(size=(120, 40)) as pilot:
            composer = await open_ticket_composer(app, pilot, inbox)
            fake.push(Behaviour(content="Hi Sam, I have re-sent the email."))
            await pilot.press("ctrl+g")  # into an empty composer: taken at once, undoable
            await wait_until(pilot, lambda: composer.text == "Hi Sam, I have re-sent the email.", what="draft")
            assert "Sam Lee" in str(fake.requests[-1])  # the transcript was the context
            fake.push(Behaviour(content="Hi Sam, I have just re-sent the email."))
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: composer.offer is not None, what="the polish offered")
            assert composer.text == "Hi Sam, I have re-sent the email."  # offered, not applied
            await pilot.press("ctrl+r")
            assert composer.text == "Hi Sam, I have just re-sent the email."
            fake.push(Behaviour(content="Hola Sam, acabo de reenviar el correo."))
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: composer.offer is not None, what="the translation offered")
            await pilot.press("ctrl+r")
            assert composer.text.startswith("Hola Sam")
            assert "'en'" in str(fake.requests[-1])  # into the customer's language
            await pilot.press("ctrl+z")  # the replacement is one edit on the undo history
            assert composer.text == "Hi Sam, I have just re-sent the email."


async def test_ai_results_never_destroy_what_the_teammate_typed(inbox: Inbox) -> None:
    with FakeOpenAI() as fake:
        ai = AISettings(backend="openai", api_key="test-key", base_url=fake.base_url, timeout=5)
        app = inbox.app(ai=ai)
        async with app.run_test(size=(120, 40)) as pilot:
            composer = await open_ticket_composer(app, pilot, inbox)
            # A draft asked for while the composer is empty, then typing while it is in flight.
            fake.push(Behaviour(content="An AI draft.", delay=1.0))
            await pilot.press("ctrl+g", *"my own words")
            await wait_until(pilot, lambda: composer.offer is not None, what="the draft offered")
            assert composer.text == "my own words"  # typed in flight: kept
            assert "An AI draft." in str(app.inbox.query_one("#composer-offer").render())
            await pilot.press("escape")  # discard the offer (and stay in the composer)
            assert composer.offer is None and composer.text == "my own words"
            assert app.focused is composer.input
            # Insert puts the AI text at the cursor, keeping the rest.
            fake.push(Behaviour(content=" [b]Polished[/b]"))
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: composer.offer is not None, what="the polish offered")
            await pilot.press("ctrl+o")
            assert composer.text == "my own words [b]Polished[/b]"
            await pilot.press("ctrl+z")
            assert composer.text == "my own words"


async def test_a_failing_model_leaves_the_text_and_says_so(inbox: Inbox) -> None:
    with FakeOpenAI(default=Behaviour(kind="status", status=500)) as fake:
        ai = AISettings(backend="openai", api_key="test-key", base_url=fake.base_url, timeout=2)
        app = inbox.app(ai=ai)
        async with app.run_test(size=(120, 40)) as pilot:
            composer = await open_ticket_composer(app, pilot, inbox)
            await pilot.press(*"keep me", "ctrl+l")
            await wait_until(pilot, lambda: any("AI polish failed" in n for n in notifications(app)), timeout=15)
            assert composer.text == "keep me"


async def test_offline_the_composer_says_what_is_not_available(inbox: Inbox) -> None:
    app = inbox.app()
    async with app.run_test(size=(120, 40)) as pilot:
        composer = await open_ticket_composer(app, pilot, inbox)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: any("not available offline" in n for n in notifications(app)))
        await pilot.press(*"draft", "ctrl+t")
        await wait_until(pilot, lambda: sum("not available offline" in n for n in notifications(app)) == 2)
        assert composer.text == "draft"
