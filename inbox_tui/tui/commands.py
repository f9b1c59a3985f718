"""The command palette (Ctrl+P): every inbox action, every view and every theme."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from inbox_tui.tui.safe_text import literal

if TYPE_CHECKING:
    from inbox_tui.tui.app import InboxApp

# (title, action string run on the inbox screen, help). Entries that do not apply to what
# is shown are left out, as the footer leaves their keys out.
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Take over the selected conversation", "take_over", "Open a ticket on you and pause the AI"),
    ("Reply to the customer", "compose('reply')", "Focus the composer in reply mode"),
    ("Write an internal note", "compose('note')", "Teammates only; @mention to notify"),
    ("Allow AI replies (close the ticket)", "allow_ai", "Hand the conversation back to the bot"),
    ("Reassign the ticket", "reassign", "Pick a teammate by load and availability"),
    ("Pending: wait on the customer", "pending", "Their next message brings it back (P)"),
    ("Snooze the ticket", "snooze", "Until a time or until the customer writes (z)"),
    ("Close, keeping the AI paused", "close_paused", "The bot stays off; a customer message reopens it (C)"),
    ("Reopen the closed ticket", "reopen", "On you, AI paused again, with a reason (o)"),
    ("AI: draft a reply", "ai('draft')", "Needs a model"),
    ("AI: polish the draft", "ai('polish')", "Needs a model"),
    ("AI: translate the draft into the customer's language", "ai('translate')", "Needs a model"),
    ("Open a previous ticket of this requester", "previous_tickets", "Focus the list of previous tickets"),
    ("Toggle my availability (available / away)", "toggle_availability", "Assignment skips you when away"),
    ("Team: availability, capacity and shifts", "team", "See the team; change your own capacity and shifts"),
    ("Filter the list", "filter", "Type to narrow the list"),
    ("Search everything", "search", "Messages, notes, customers and tickets (s)"),
    ("Show all keys", "help", "The help screen"),
    ("Quit", "quit", "Leave the inbox"),
)


class InboxCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        from inbox_tui.tui.widgets.sidebar import VIEW_ORDER

        app: InboxApp = self.app  # type: ignore[assignment]
        inbox = app.inbox
        for title, action, help_text in ACTIONS:
            name = action.split("(", 1)[0]
            target = app if name in ("help", "quit", "team") else inbox
            if target.check_action(name, ()) is False:
                continue  # does not apply to what is shown
            runner = inbox.composer if name == "ai" else target
            yield title, partial(app.run_action, action, runner), help_text
        for number, view in enumerate(VIEW_ORDER, 1):
            yield f"View: {view.label}", partial(inbox.switch_view, view), f"Key {number}"
        for theme in app.inbox_theme_names:
            # Theme names come from files on disk: shown as text, never as markup.
            yield f"Theme: {theme}", partial(setattr, app, "theme", theme), "Switch the colour theme"

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            yield DiscoveryHit(Content(literal(title, single_line=True)), callback, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, literal_highlight(matcher, title), callback, text=title, help=help_text)


def literal_highlight(matcher: Matcher, title: str) -> Content:
    """``Matcher.highlight`` without parsing ``title`` as markup (theme names come from files)."""
    title = literal(title, single_line=True)
    content = Content(title)
    score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    if score:
        for offset in offsets:
            if not title[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
