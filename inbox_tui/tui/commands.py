"""The command palette (Ctrl+P): every inbox action, every view and every theme."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from inbox_tui.tui.app import InboxApp

# (title, action string run on the app, help)
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Take over the selected conversation", "take_over", "Open a ticket on you and pause the AI"),
    ("Reply to the customer", "compose('reply')", "Focus the composer in reply mode"),
    ("Write an internal note", "compose('note')", "Teammates only; @mention to notify"),
    ("Allow AI replies (close the ticket)", "allow_ai", "Hand the conversation back to the bot"),
    ("Reassign the ticket", "reassign", "Pick a teammate by load and availability"),
    ("AI: draft a reply", "ai('draft')", "Needs a model"),
    ("AI: polish the draft", "ai('polish')", "Needs a model"),
    ("AI: translate the draft into the customer's language", "ai('translate')", "Needs a model"),
    ("Open a previous ticket of this requester", "previous_tickets", "Focus the list of previous tickets"),
    ("Toggle my availability (available / away)", "toggle_availability", "Assignment skips you when away"),
    ("Team: availability, capacity and shifts", "team", "See the team; change your own capacity and shifts"),
    ("Filter the list", "filter", "Type to narrow the list"),
    ("Show all keys", "help", "The help screen"),
    ("Quit", "quit", "Leave the inbox"),
)


class InboxCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app: InboxApp = self.app  # type: ignore[assignment]
        for title, action, help_text in ACTIONS:
            yield title, partial(app.run_action, action), help_text
        from inbox_tui.tui.widgets.sidebar import VIEW_ORDER

        for number, view in enumerate(VIEW_ORDER, 1):
            yield f"View: {view.label}", partial(app.switch_view, view), f"Key {number}"
        for name in app.inbox_theme_names:
            yield f"Theme: {name}", partial(setattr, app, "theme", name), "Switch the colour theme"

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
