"""The views with their live counts; 1–8 jump straight to one.

``Sidebar`` is the list at the left; ``ViewsStrip`` the same folded into one line for
narrow terminals. Both get the current view and the counts bound down from the screen.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive, var
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from inbox_tui.core.views import View

VIEW_ORDER = (
    View.CONVERSATIONS,
    View.ON_YOU,
    View.UNASSIGNED,
    View.ALL_OPEN,
    View.MENTIONS,
    View.CLOSED,
    View.PENDING,
    View.SNOOZED,
)


def unread_mark(unread: int | None) -> str:
    """Two cells beside a view's total: ``●3`` rows I have not seen (``●+`` over nine)."""
    if not unread:
        return "  "
    return f"●{unread}" if unread <= 9 else "●+"


def _prompt(number: int, view: View, count: int | None, unread: int | None = None) -> Content:
    shown = "" if count is None else str(count)
    return Content.assemble(
        (f"{number} ", "$text-muted"),
        view.label.ljust(13),
        (unread_mark(unread), "bold $accent"),
        (shown.rjust(4), "bold"),
    )


class Sidebar(OptionList):
    view: var[View] = var(View.CONVERSATIONS, init=False)
    counts: var[dict[View, int]] = var(dict, init=False)
    unread: var[dict[View, int]] = var(dict, init=False)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(*[Option(_prompt(i, v, None), id=v.value) for i, v in enumerate(VIEW_ORDER, 1)], **kwargs)  # type: ignore[arg-type]

    def watch_counts(self) -> None:
        counts, unread = self.counts, self.unread
        for index, view in enumerate(VIEW_ORDER):
            prompt = _prompt(index + 1, view, counts.get(view), unread.get(view))
            self.replace_option_prompt_at_index(index, prompt)

    def watch_unread(self) -> None:
        self.watch_counts()

    def watch_view(self, view: View) -> None:
        self.highlighted = VIEW_ORDER.index(view)


SHORT_TITLES = {
    View.CONVERSATIONS: "Convs",
    View.ON_YOU: "On you",
    View.UNASSIGNED: "Unassigned",
    View.ALL_OPEN: "Open",
    View.MENTIONS: "Mentions",
    View.CLOSED: "Closed",
    View.PENDING: "Pending",
    View.SNOOZED: "Snoozed",
}
TINY_TITLES = {
    View.CONVERSATIONS: "Conv",
    View.ON_YOU: "Mine",
    View.UNASSIGNED: "Unas",
    View.ALL_OPEN: "Open",
    View.MENTIONS: "@me",
    View.CLOSED: "Done",
    View.PENDING: "Pend",
    View.SNOOZED: "Zzz",
}


def strip_content(view: View, counts: dict[View, int], width: int, unread: dict[View, int] | None = None) -> Content:
    """Every view on one line, in the widest form that fits ``width``: no view is dropped."""
    forms = ((SHORT_TITLES, " · "), (TINY_TITLES, " · "), (TINY_TITLES, " "), (None, " "))
    content = Content("")
    for titles, separator in forms:
        parts: list[str | tuple[str, str]] = []
        for number, each in enumerate(VIEW_ORDER, 1):
            if parts:
                parts.append((separator, "$text-muted"))
            count = counts.get(each)
            label = f"{number}" if titles is None else f"{number} {titles[each]}"
            if count is not None:
                label += (":" if titles is None else " ") + str(count)
            if unread and unread.get(each):
                label += unread_mark(unread[each])
            parts.append((label, "bold reverse" if each is view else ""))
        content = Content.assemble(*parts)
        if content.cell_length <= width:
            break
    return content


class ViewsStrip(Widget):
    """The sidebar folded into one line, for narrow terminals."""

    DEFAULT_CSS = "ViewsStrip { height: 1; }"

    view: reactive[View] = reactive(View.CONVERSATIONS)
    counts: reactive[dict[View, int]] = reactive(dict)
    unread: reactive[dict[View, int]] = reactive(dict)

    def render(self) -> Content:
        return strip_content(self.view, self.counts, self.content_size.width or 80, self.unread)
