"""Signing in to ``inbox-tui web`` in headless Chromium: each tab is its teammate's inbox."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import select

from inbox_tui.core.agents import add_agent, rotate_token
from inbox_tui.core.conversations import record_customer_message, start_conversation
from inbox_tui.core.models import Ticket
from inbox_tui.core.sign_in import create_sign_in_link
from tests.support.browser import needs_chromium
from tests.web.conftest import ATTEMPTS, IDLE, WINDOW, WebSetup, sign_in_with_token, wait_for_inbox

pytestmark = [pytest.mark.slow, needs_chromium]

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")


async def test_refused_without_sign_in(web_setup: WebSetup, browser) -> None:
    page = await browser.new_page()
    response = await page.goto(web_setup.url + "/")
    assert page.url == web_setup.url + "/sign-in"
    assert await page.is_visible("#token")
    for header in SECURITY_HEADERS:
        assert header in response.headers or header.lower() in response.headers
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    async with aiohttp.ClientSession() as http:
        # The tab socket needs a session: no inbox process starts for a stranger.
        async with http.get(web_setup.url + "/ws", headers={"Origin": web_setup.url}) as refused:
            assert refused.status == 401
            assert refused.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(web_setup.url + "/static/inbox/inbox.js") as script:
            assert script.status == 200 and "Content-Security-Policy" in script.headers
        async with http.get(web_setup.url + "/nowhere") as missing:
            assert missing.status == 404 and "Content-Security-Policy" in missing.headers
    assert web_setup.server.signed_in.tabs == {}


async def test_sign_in_with_a_token_then_sign_out(web_setup: WebSetup, browser) -> None:
    ana, token = await add_agent(web_setup.store, "ana", "Ana")
    page = await browser.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    await sign_in_with_token(page, web_setup.url, token)
    assert page.url == web_setup.url + "/"
    assert (await page.text_content("#signed-in-as")) == "Signed in as @ana"
    cookie = next(c for c in await page.context.cookies() if c["name"] == "inbox_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] != token
    await wait_for_inbox(page)
    await web_setup.wait_online(ana.id)  # the tab's inbox is connected as @ana
    assert violations == []  # the page works under its Content-Security-Policy

    await page.click("#terminal")
    async with page.expect_navigation():
        await page.keyboard.press("Alt+Shift+KeyQ")  # the sign-out key
    assert page.url == web_setup.url + "/sign-in"
    await web_setup.wait_online(ana.id, expected=False)  # the tab's inbox ended
    assert not [c for c in await page.context.cookies() if c["name"] == "inbox_session"]
    await page.goto(web_setup.url + "/")
    assert page.url == web_setup.url + "/sign-in"


async def test_sign_in_with_a_one_time_link_works_once(web_setup: WebSetup, browser) -> None:
    ben, _ = await add_agent(web_setup.store, "ben", "Ben")
    link = await create_sign_in_link(web_setup.store, "ben", timedelta(minutes=15))
    first = await browser.new_context()
    page = await first.new_page()
    await page.goto(f"{web_setup.url}/link?code={link.secret}")
    async with page.expect_navigation():
        await page.click("#use-link")
    assert (await page.text_content("#signed-in-as")) == "Signed in as @ben"
    await wait_for_inbox(page)
    await web_setup.wait_online(ben.id)

    second = await (await browser.new_context()).new_page()
    await second.goto(f"{web_setup.url}/link?code={link.secret}")
    async with second.expect_navigation():
        await second.click("#use-link")
    assert "did not sign you in" in (await second.text_content(".error") or "")
    await second.goto(web_setup.url + "/")
    assert second.url == web_setup.url + "/sign-in"


async def test_two_tabs_two_teammates_one_takeover_wins(web_setup: WebSetup, browser) -> None:
    store = web_setup.store
    started = await start_conversation(store, channel="web", customer_id="c-1", name="Emily Carter", locale="en")
    # A question the bot answers without escalating: the channel's bot answers what it owes.
    await record_customer_message(store, started.conversation.id, "Do you ship to Canada?", client_id="m1")
    ana, ana_token = await add_agent(store, "ana", "Ana")
    ben, ben_token = await add_agent(store, "ben", "Ben")
    pages = []
    for token in (ana_token, ben_token):
        page = await (await browser.new_context()).new_page()
        await sign_in_with_token(page, web_setup.url, token)
        pages.append(page)
    assert [await p.text_content("#signed-in-as") for p in pages] == ["Signed in as @ana", "Signed in as @ben"]
    await asyncio.gather(*(wait_for_inbox(p) for p in pages))
    await asyncio.gather(web_setup.wait_online(ana.id), web_setup.wait_online(ben.id))
    await asyncio.sleep(1.0)  # both inboxes have listed the conversation
    for page in pages:
        await page.click("#terminal")
    # Both press Take over on the only conversation at the same moment.
    await asyncio.gather(*(p.keyboard.press("t") for p in pages))
    async with asyncio.timeout(30):
        while True:
            async with store.read() as session:
                tickets = list(
                    await session.scalars(select(Ticket).where(Ticket.conversation_id == started.conversation.id))
                )
            if tickets and tickets[0].assignee_id is not None:
                break
            await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # the loser's attempt has landed too
    async with store.read() as session:
        tickets = list(await session.scalars(select(Ticket).where(Ticket.conversation_id == started.conversation.id)))
    assert len(tickets) == 1
    assert tickets[0].assignee_id in (ana.id, ben.id)
    assert tickets[0].created_by_id in (ana.id, ben.id)  # a tab acted as its own teammate


async def test_a_session_expires_when_idle(web_setup: WebSetup, browser) -> None:
    ana, token = await add_agent(web_setup.store, "ana", "Ana")
    page = await browser.new_page()
    await sign_in_with_token(page, web_setup.url, token)
    await wait_for_inbox(page)
    await web_setup.wait_online(ana.id)
    web_setup.clock.advance(seconds=IDLE.total_seconds() - 60)
    await asyncio.sleep(1.0)
    assert await page.evaluate("!document.body.classList.contains('-closed')")  # not yet
    web_setup.clock.advance(seconds=120)
    await page.wait_for_selector("body.-closed", state="attached", timeout=15_000)
    await web_setup.wait_online(ana.id, expected=False)
    await page.goto(web_setup.url + "/")
    assert page.url == web_setup.url + "/sign-in"


async def test_a_rotated_token_ends_the_session(web_setup: WebSetup, browser) -> None:
    ana, token = await add_agent(web_setup.store, "ana", "Ana")
    page = await browser.new_page()
    await sign_in_with_token(page, web_setup.url, token)
    await wait_for_inbox(page)
    await web_setup.wait_online(ana.id)
    new_token = await rotate_token(web_setup.store, "ana")
    await page.wait_for_selector("body.-closed", state="attached", timeout=15_000)
    await web_setup.wait_online(ana.id, expected=False)
    await page.goto(web_setup.url + "/")
    assert page.url == web_setup.url + "/sign-in"
    await page.fill("#token", token)  # the old token no longer signs in
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert await page.is_visible(".error")
    await sign_in_with_token(page, web_setup.url, new_token)
    assert (await page.text_content("#signed-in-as")) == "Signed in as @ana"


async def test_failed_sign_ins_are_limited_per_address_and_logged(
    web_setup: WebSetup,
    browser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, token = await add_agent(web_setup.store, "ana", "Ana")
    caplog.set_level(logging.WARNING, logger="inbox_tui.web")
    page = await browser.new_page()
    await page.goto(web_setup.url + "/sign-in")
    statuses = []
    for attempt in range(ATTEMPTS):
        await page.fill("#token", f"wrong-{attempt}")
        async with page.expect_navigation() as navigation:
            await page.click("button[type=submit]")
        statuses.append((await navigation.value).status)
    assert statuses == [401] * ATTEMPTS
    assert sum("failed sign-in" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in caplog.records) == ATTEMPTS

    await page.fill("#token", token)  # even the right token waits now
    async with page.expect_navigation() as navigation:
        await page.click("button[type=submit]")
    limited = await navigation.value
    assert limited.status == 429 and int(limited.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in (await page.text_content(".error") or "")

    web_setup.clock.advance(seconds=WINDOW.total_seconds() + 1)
    await sign_in_with_token(page, web_setup.url, token)
    assert (await page.text_content("#signed-in-as")) == "Signed in as @ana"
