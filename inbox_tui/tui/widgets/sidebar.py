"""The views with their live counts; 1–6 jump straight to one."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from inbox_tui.core.views import View
from inbox_tui.tui.widgets.one_line import OneLine, Part

VIEW_ORDER = (View.CONVERSATIONS, View.ON_YOU, View.UNASSIGNED, View.ALL_OPEN, View.MENTIONS, View.CLOSED)


def _prompt(number: int, view: View, count: int | None) -> Content:
    shown = "" if count is None else str(count)
    return Content.assemble((f"{number} ", "$text-muted"), view.label.ljust(13), (shown.rjust(4), "bold"))


class Sidebar(OptionList):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(*[Option(_prompt(i, v, None), id=v.value) for i, v in enumerate(VIEW_ORDER, 1)],
                         **kwargs)  # type: ignore[arg-type]
        self.counts: dict[View, int] = {}

    def show_counts(self, counts: dict[View, int]) -> None:
        if counts == self.counts:
            return
        self.counts = dict(counts)
        for index, view in enumerate(VIEW_ORDER):
            self.replace_option_prompt_at_index(index, _prompt(index + 1, view, counts.get(view)))

    def show_view(self, view: View) -> None:
        self.highlighted = VIEW_ORDER.index(view)


SHORT_TITLES = {View.CONVERSATIONS: "Convs", View.ON_YOU: "On you", View.UNASSIGNED: "Unassigned",
                View.ALL_OPEN: "Open", View.MENTIONS: "Mentions", View.CLOSED: "Closed"}


class ViewsStrip(OneLine):
    """The sidebar folded into one line, for 80-column terminals."""

    def show(self, view: View, counts: dict[View, int]) -> None:
        parts: list[Part] = []
        for number, each in enumerate(VIEW_ORDER, 1):
            if parts:
                parts.append((" · ", "$text-muted"))
            style = "bold reverse" if each is view else ""
            count = counts.get(each)
            parts.append((f"{number} {SHORT_TITLES[each]}" + ("" if count is None else f" {count}"), style))
        self.show_parts(parts)
