"""The widget on the demo shop page in headless Chromium, against the real chat server:
the whole handoff story, reload and new tabs, a lost ack, a server restart, hostile
text, a foreign origin, keyboard-only use and a phone-sized screen."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from inbox_tui.core.agents import add_agent
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import TicketSource
from inbox_tui.core.tickets import allow_ai_replies, send_agent_reply
from tests.widget.conftest import DESKTOP, PHONE, artefacts_dir
from tests.widget.widget_page import WidgetPage, conversation_messages, open_ticket_of

pytestmark = pytest.mark.slow

SHIPPING_ANSWER = "Orders ship within 2 business days"


def by(kind: str, text: str = "") -> Any:
    return lambda item: item["kind"] == kind and text in item["text"]


async def new_widget_page(
    browser: Any, url: str, viewport: dict[str, int] = DESKTOP, context: Any = None
) -> tuple[WidgetPage, list[str]]:
    """A page on the shop; script errors and CSP violations are collected (and must stay empty)."""
    page = await context.new_page() if context is not None else await browser.new_page(viewport=viewport)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "favicon" not in (message.location or {}).get("url", "")
            else None
        ),
    )
    await page.goto(url)
    return WidgetPage(page), problems


async def test_question_handoff_teammate_and_back_to_the_bot(start_site, browser) -> None:
    site = await start_site()
    ana, _token = await add_agent(site.store, "ana", "Ana Silva")
    widget, problems = await new_widget_page(browser, site.shop_url)
    await widget.page.emulate_media(reduced_motion="reduce")  # a still screenshot
    sockets: list[str] = []
    widget.page.on("websocket", lambda socket: sockets.append(socket.url))

    await widget.open()
    await widget.send("How long does shipping take?")
    await widget.wait_for(by("bot", SHIPPING_ANSWER))
    assert await widget.subtitle.text_content() == "Our assistant answers here"

    await widget.send("Can I talk to a human, please?")
    await widget.wait_for(by("system", "Let me connect you with a teammate."))
    await widget.wait_for(by("mode", "A teammate will answer here"))
    assert await widget.subtitle.text_content() == "A teammate will answer here"

    public_id = await widget.stored_conversation()
    ticket_id = await open_ticket_of(site.store, public_id)
    await escalate(
        site.store, (await site_conversation_id(site, public_id)), source=TicketSource.TAKEOVER, actor_id=ana.id
    )  # Ana takes the ticket over (it was waiting unassigned)
    # The customer is told who joined (only what is true: she took it over).
    await widget.input.press("Escape")  # closed: the reply shows on the launcher
    await send_agent_reply(
        site.store, ticket_id, ana.id, "Hi, I'm Ana. Your order is here: https://velora.example/orders/42."
    )
    reply = await widget.wait_for(by("agent", "I'm Ana"))
    # Two unread while closed: "Ana Silva has joined the conversation." (said with her
    # first reply: the takeover found the ticket waiting, she was not announced before) and the reply.
    await widget.wait_for(by("system", "Ana Silva has joined the conversation."))
    assert await widget.page.locator(".badge").text_content() == "2"
    assert (await widget.launcher.get_attribute("aria-label")).endswith("(2 new)")
    await widget.open()
    assert await widget.page.locator(".badge").is_hidden()
    assert reply["name"] == "Ana Silva" and reply["handover"] == "You're now chatting with Ana Silva"
    assert await widget.subtitle.text_content() == "You're now chatting with Ana Silva"
    link = widget.page.locator(".agent a.link")
    assert await link.get_attribute("href") == "https://velora.example/orders/42"
    assert await link.get_attribute("rel") == "noopener noreferrer"
    assert await link.text_content() == "https://velora.example/orders/42"  # the final full stop is text
    await widget.page.screenshot(path=str(artefacts_dir() / "widget-desktop.png"), animations="disabled")

    await allow_ai_replies(site.store, ticket_id, ana.id)
    await widget.wait_for(by("mode", "Our assistant is answering again"))
    answers = [item for item in await widget.thread() if item["kind"] == "bot"]
    await widget.send("And how long does shipping take to Spain?")
    await widget.wait_for(lambda item: item["kind"] == "bot" and item not in answers)

    kinds = [item["kind"] for item in await widget.thread()]
    assert [kind for kind in kinds if kind != "mode"] == [
        "customer",
        "bot",
        "customer",
        "system",  # the handoff
        "system",  # in the queue (the ticket waited unassigned)
        "system",  # Ana Silva has joined (with her first reply)
        "agent",
        "customer",
        "bot",
    ]
    assert kinds.count("mode") == 2 and kinds.index("mode", 4) < kinds.index("customer", 5)
    assert sockets and all(url == f"ws://127.0.0.1:{site.port}/chat" for url in sockets)  # no token in a URL
    assert problems == []


async def site_conversation_id(site: Any, public_id: str) -> int:
    from sqlalchemy import select

    from inbox_tui.core.models import Conversation

    async with site.store.read() as session:
        return int(await session.scalar(select(Conversation.id).where(Conversation.public_id == public_id)))


async def test_reload_and_a_second_tab_resume_with_the_full_history(start_site, browser) -> None:
    site = await start_site()
    context = await browser.new_context(viewport=DESKTOP)
    widget, problems = await new_widget_page(browser, site.shop_url, context=context)
    await widget.open()
    await widget.send("How long does shipping take?")
    await widget.wait_for(by("bot", SHIPPING_ANSWER))
    await widget.send("What are your opening hours?")
    await widget.wait_for(by("bot", "Monday to Friday"))
    before = await widget.thread()

    await widget.page.reload()
    await widget.open()
    await widget.wait_for(by("bot", "Monday to Friday"))
    assert await widget.thread() == before

    other, other_problems = await new_widget_page(browser, site.shop_url, context=context)
    await other.open()
    await other.wait_for(by("bot", "Monday to Friday"))
    assert await other.thread() == before
    await other.send("Thanks from the other tab")
    # The first tab hears it too, once, with the same id.
    mine = await widget.wait_for(by("customer", "Thanks from the other tab"))
    theirs = await other.wait_for(by("customer", "Thanks from the other tab"))
    assert mine["id"] == theirs["id"]
    await other.wait_for(lambda item: item["kind"] == "bot" and item["id"] > theirs["id"])
    await widget.wait_for(lambda item: item["kind"] == "bot" and item["id"] > theirs["id"])
    assert await widget.thread() == await other.thread()
    ids = [item["id"] for item in await widget.thread()]
    assert ids == sorted(set(ids))
    assert len(await conversation_messages(site.store, await widget.stored_conversation())) == len(ids)
    assert problems == [] and other_problems == []
    await context.close()


async def test_a_lost_ack_is_resent_and_the_message_stored_and_shown_once(start_site, browser) -> None:
    """The server stores the message, the ack never arrives and the socket drops: the
    widget sends it again with the same client_id after reconnecting."""
    site = await start_site()
    widget, problems = await new_widget_page(browser, site.shop_url)
    connections = 0

    def relay(page_side: Any) -> None:
        nonlocal connections
        connections += 1
        server_side = page_side.connect_to_server()
        if connections > 1:
            return  # later connections pass through untouched

        async def to_page(message: Any) -> None:
            if '"type": "ack"' in str(message) or '"type":"ack"' in str(message):
                await page_side.close(code=4000, reason="injected drop")  # the ack is lost with the socket
                await server_side.close()
                return
            page_side.send(message)

        server_side.on_message(to_page)
        page_side.on_message(lambda message: server_side.send(message))

    await widget.page.route_web_socket(re.compile(r"/chat$"), relay)
    await widget.open()
    await widget.send("Where is my parcel? It should have arrived by now")
    await widget.wait_for(lambda item: item["kind"] == "customer" and item["id"] is not None, timeout=20)
    await widget.wait_for(by("bot"))
    assert connections >= 2
    thread = await widget.thread()
    assert [item["kind"] for item in thread] == ["customer", "bot"]
    stored = await conversation_messages(site.store, await widget.stored_conversation())
    assert [author for author, _ in stored] == ["customer", "bot"]
    assert problems == []


async def test_server_restart_mid_conversation(start_site, browser) -> None:
    site = await start_site()
    widget, problems = await new_widget_page(browser, site.shop_url)
    await widget.open()
    await widget.send("How long does shipping take?")
    await widget.wait_for(by("bot", SHIPPING_ANSWER))

    await site.stop_server()
    await widget.status.wait_for(state="visible")
    assert await widget.status.text_content() == "Offline — reconnecting…"
    await widget.send("What are your opening hours?")  # typed while the server is down
    await widget.send("Sent while offline, too")
    await asyncio.sleep(1.0)
    assert [item["kind"] for item in await widget.thread()][-2:] == ["customer pending", "customer pending"]

    await site.start_server()
    await widget.wait_until_sent(timeout=30)
    await widget.wait_for(by("bot", "Monday to Friday"))
    await widget.status.wait_for(state="hidden")
    public_id = await widget.stored_conversation()
    customer_texts = [
        text for author, text in await conversation_messages(site.store, public_id) if author == "customer"
    ]
    assert customer_texts == ["How long does shipping take?", "What are your opening hours?", "Sent while offline, too"]
    thread = await widget.thread()
    assert [item["text"] for item in thread if item["kind"] == "customer"] == customer_texts
    assert len({item["id"] for item in thread}) == len(thread)
    # The console reports the refused reconnects; nothing else may appear.
    assert [p for p in problems if "ERR_CONNECTION_REFUSED" not in p and "WebSocket" not in p] == []


HOSTILE = (
    "<img src=x id=pwned-img>\n<script>window.__pwned = 1</script> [b]bold[/b] "
    "[@click=app.quit]x[/] **md** \u202eevil\u202c مرحبا بك 👋🏽 javascript:alert(1) "
    '<a href="javascript:alert(2)">link</a> &amp; &lt;'
)


async def test_hostile_text_from_both_sides_shows_literally(start_site, browser) -> None:
    site = await start_site()
    ana, _token = await add_agent(site.store, "ana", "<b>Ana</b> 🚲")
    widget, problems = await new_widget_page(browser, site.shop_url)
    await widget.open()
    await widget.send(HOSTILE)
    mine = await widget.wait_for(lambda item: item["kind"] == "customer" and item["id"] is not None)
    assert mine["text"] == HOSTILE
    await widget.wait_for(by("bot"))

    public_id = await widget.stored_conversation()
    conversation_id = await site_conversation_id(site, public_id)
    result = await escalate(site.store, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    await send_agent_reply(site.store, result.ticket_id, ana.id, HOSTILE)
    reply = await widget.wait_for(by("agent"))
    assert reply["text"] == HOSTILE and reply["name"] == "<b>Ana</b> 🚲"
    assert reply["handover"] == "You're now chatting with <b>Ana</b> 🚲"

    inside = await widget.page.evaluate("""() => {
      const root = document.querySelector('[data-inbox-tui-widget]').shadowRoot;
      return {
        pwned: window.__pwned === undefined ? null : window.__pwned,
        tags: Array.from(root.querySelectorAll('.messages *')).map(node => node.tagName.toLowerCase()),
        links: Array.from(root.querySelectorAll('.messages a')).map(a => a.getAttribute('href')),
        pageImages: document.querySelectorAll('img, #pwned-img').length,
      };
    }""")
    assert inside["pwned"] is None and inside["pageImages"] == 0
    assert set(inside["tags"]) <= {"li", "span", "p", "time"}
    assert inside["links"] == []
    stored = [text for author, text in await conversation_messages(site.store, public_id) if author != "bot"]
    assert stored.count(HOSTILE) == 2
    assert problems == []


async def test_a_page_on_a_foreign_origin_is_refused(start_site, browser) -> None:
    site = await start_site(allowed_origins=["https://shop.example.com"])
    widget, _problems = await new_widget_page(browser, site.shop_url)
    errors: list[str] = []
    widget.page.on("websocket", lambda socket: socket.on("socketerror", lambda error: errors.append(error)))
    await widget.open()
    await widget.send("Is anyone there?")
    await widget.status.wait_for(state="visible")
    async with asyncio.timeout(10):
        while not errors:
            await asyncio.sleep(0.1)
    assert "403" in errors[0]
    await widget.page.wait_for_function(
        "() => document.querySelector('[data-inbox-tui-widget]').shadowRoot.querySelector('.status')"
        ".textContent === 'Offline — reconnecting…'"
    )
    await asyncio.sleep(1.0)
    assert [item["kind"] for item in await widget.thread()] == ["customer pending"]
    assert await count_conversations(site) == 0


async def count_conversations(site: Any) -> int:
    from sqlalchemy import func, select

    from inbox_tui.core.models import Conversation

    async with site.store.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Conversation)))


async def test_keyboard_only(start_site, browser) -> None:
    site = await start_site()
    widget, problems = await new_widget_page(browser, site.shop_url)
    page = widget.page
    focused = (
        "() => { const root = document.querySelector('[data-inbox-tui-widget]').shadowRoot;"
        " return root.activeElement ? root.activeElement.className : null; }"
    )

    await page.keyboard.press("Tab")
    assert await page.evaluate(focused) == "launcher"
    assert await widget.launcher.get_attribute("aria-expanded") == "false"
    await page.keyboard.press("Enter")
    assert await page.evaluate(focused) == "input"
    assert await widget.launcher.get_attribute("aria-expanded") == "true"
    await asyncio.sleep(0.5)
    assert await count_conversations(site) == 0  # looking starts no conversation; writing does
    assert await widget.panel.get_attribute("role") == "dialog"
    assert await page.locator(".log").get_attribute("role") == "log"

    await page.keyboard.type("How long does shipping take?")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("Second line")
    await page.keyboard.press("Enter")
    mine = await widget.wait_for(lambda item: item["kind"] == "customer" and item["id"] is not None)
    assert mine["text"] == "How long does shipping take?\nSecond line"
    await widget.wait_for(by("bot", SHIPPING_ANSWER))
    await page.wait_for_function(
        "() => document.querySelector('[data-inbox-tui-widget]').shadowRoot.querySelector('.announcer')"
        ".textContent.includes('Orders ship')"
    )  # the live region announced the answer
    assert await page.evaluate(focused) == "input"

    await page.keyboard.press("Escape")
    assert await widget.panel.is_hidden()
    assert await page.evaluate(focused) == "launcher"
    await page.keyboard.press("Enter")
    assert await page.evaluate(focused) == "input"
    await page.keyboard.press("Tab")
    assert await page.evaluate(focused) == "send"
    assert problems == []


async def test_a_320_pixel_wide_phone(start_site, browser) -> None:
    site = await start_site()
    widget, problems = await new_widget_page(browser, site.shop_url, viewport=PHONE)
    await widget.open()
    await widget.send("How long does shipping take? " + "Quite a long question, really. " * 4)
    await widget.wait_for(by("bot", SHIPPING_ANSWER))
    box = await widget.panel.bounding_box()
    assert box is not None and box["width"] == PHONE["width"] and box["x"] == 0
    overflow = await widget.page.evaluate("""() => {
      const root = document.querySelector('[data-inbox-tui-widget]').shadowRoot;
      const log = root.querySelector('.log');
      return {log: log.scrollWidth - log.clientWidth, page: document.documentElement.scrollWidth - innerWidth};
    }""")
    assert overflow == {"log": 0, "page": 0}
    send = await widget.page.locator(".send").bounding_box()
    assert send is not None and send["x"] + send["width"] <= PHONE["width"]
    await widget.page.screenshot(path=str(artefacts_dir() / "widget-phone.png"), animations="disabled")

    # The system's dark mode and reduced motion.
    panel_style = (
        "() => { const panel = document.querySelector('[data-inbox-tui-widget]').shadowRoot"
        ".querySelector('.panel'); const style = getComputedStyle(panel);"
        " return [style.backgroundColor, style.animationDuration]; }"
    )
    light = await widget.page.evaluate(panel_style)
    await widget.page.emulate_media(color_scheme="dark", reduced_motion="reduce")
    dark = await widget.page.evaluate(panel_style)
    assert light[0] == "rgb(255, 255, 255)" and light[1] != "0s"
    assert dark == ["rgb(28, 33, 32)", "0s"]
    await widget.page.screenshot(path=str(artefacts_dir() / "widget-phone-dark.png"), animations="disabled")
    assert problems == []


async def test_the_browser_language_reaches_the_server_and_the_options_apply(start_site, browser) -> None:
    """No data-locale: the browser's language (here German) is the customer's; the
    widget's own words follow it. data-position, data-color and data-title apply."""
    site = await start_site(widget={"locale": "", "position": "left", "color": "#ffd400", "title": "Velora Räder"})
    context = await browser.new_context(viewport=DESKTOP, locale="de-DE")
    widget, problems = await new_widget_page(browser, site.shop_url, context=context)
    await widget.open()
    assert await widget.input.get_attribute("placeholder") == "Nachricht schreiben…"
    assert await widget.page.locator(".title").text_content() == "Velora Räder"
    launcher = await widget.launcher.bounding_box()
    assert launcher is not None and launcher["x"] < 100  # the bottom left corner
    header = await widget.page.evaluate(
        "() => getComputedStyle(document.querySelector('[data-inbox-tui-widget]').shadowRoot"
        ".querySelector('.header')).color"
    )
    assert header == "rgb(17, 17, 17)"  # dark text on a light accent

    await widget.send("Kann ich bitte mit einem Menschen sprechen?")
    await widget.wait_for(by("system", "Ich verbinde dich mit einem Teammitglied."))
    assert await widget.subtitle.text_content() == "Ein Teammitglied antwortet hier"
    from sqlalchemy import select

    from inbox_tui.core.models import Conversation

    async with site.store.read() as session:
        conversation = await session.scalar(select(Conversation))
    assert conversation is not None and (conversation.language or "").startswith("de")
    assert problems == []
    await context.close()
