"""The line-rendered list: stable selection, filtering and 10,000 rows."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.strip import Strip

from inbox_tui.tui.widgets.row_list import RowList, RowSpec


@dataclass(frozen=True)
class Item:
    id: int
    at: int
    label: str


SPEC = RowSpec(
    key=lambda i: str(i.id),
    order=lambda i: (-i.at, -i.id),
    search_text=lambda i: i.label,
    render=lambda i, width, namesake: Text(f"{i.id} {i.label}"),
)


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RowList(SPEC, id="rows")


async def test_the_selection_stays_on_its_row_when_rows_arrive_and_leave() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        rows = app.query_one(RowList)
        rows.replace_all([Item(i, i, f"item {i}") for i in range(10_000)])
        rows.focus()
        await pilot.press("j", "j")
        selected = rows.cursor_key
        assert selected == "9997"
        rows.upsert([Item(20_000 + i, 50_000 + i, "new") for i in range(50)])  # newest first
        assert rows.cursor_key == selected and rows.keys[rows.cursor] == selected
        rows.upsert([Item(9997, 60_000, "bumped")])  # the selected row moves to the top
        assert rows.cursor_key == "9997" and rows.cursor == 0
        rows.remove_rows(["9997"])
        assert rows.cursor_key is not None and rows.row_count == 10_049


async def test_paging_and_the_ends_and_only_visible_lines_render() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        rows = app.query_one(RowList)
        rows.replace_all([Item(i, i, f"item {i}") for i in range(10_000)])
        rows.focus()
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        assert rows.cursor == 9_999 and rows.scroll_y > 9_000
        await pilot.press("home")
        await pilot.pause()
        assert rows.cursor == 0 and rows.scroll_y == 0
        await pilot.press("pagedown")
        assert rows.cursor == rows.scrollable_content_region.height - 1
        assert rows.virtual_size.height == 10_000


async def test_filter_narrows_and_clearing_restores() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)):
        rows = app.query_one(RowList)
        rows.replace_all([Item(i, i, "apple" if i % 2 else "pear") for i in range(100)])
        rows.set_filter("PEAR")
        assert rows.row_count == 50
        rows.set_filter("")
        assert rows.row_count == 100


async def test_a_filtered_list_follows_rows_that_change_arrive_and_leave() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)):
        rows = app.query_one(RowList)
        rows.replace_all([Item(i, i, "apple" if i % 2 else "pear") for i in range(10)])
        rows.set_filter("pear")
        assert rows.row_count == 5
        rows.upsert([Item(1, 1, "pear now")])  # same place, new text
        rows.upsert([Item(2, 100, "apple now")])  # moved, and no longer a match
        rows.upsert([Item(50, 50, "a pear")])  # new
        assert sorted(rows.keys) == ["0", "1", "4", "50", "6", "8"]
        rows.remove_rows(["0"])
        rows.replace_all([Item(0, 0, "pear again"), Item(1, 1, "apple")])
        assert rows.keys == ["0"]


def _rich_strip(rows: RowList, text: Text, width: int, style: Style) -> Strip:
    """A line as Rich's own renderer makes it: what the list's quicker path must equal."""
    text = text.copy()
    text.truncate(width, overflow="ellipsis", pad=True)
    segments = [
        Segment(s.text, style + s.style if s.style else style, s.control)
        for s in text.render(rows.app.console)
        if s.text != "\n"
    ]
    return Strip(segments, width).crop_extend(0, width, style).simplify()


def _lines() -> list[Text]:
    cell = Text(end="")
    cell.append("subject", "italic dim")
    cell.append(" · Ana: hi", "dim")
    nested = Text("outer ", style="bold", end="")
    nested.append(cell)
    overlapping = Text("overlapping spans here", end="")
    overlapping.stylize("bold", 0, 11)
    overlapping.stylize("red", 5, 16)
    row = Text(end="", style="bold")
    row.append("●3 ", "bold")
    row.append("Zoë 李小龍 😀".ljust(18), "bold")
    row.append(" web      en ", "dim")
    row.append("a preview that is much longer than the line is wide, so it is cut with an ellipsis")
    return [
        Text("plain", end=""),
        Text("", end=""),
        nested,
        overlapping,
        row,
        Text("[b]not markup[/b] \x1b]52;x", end=""),
    ]


async def test_lines_are_drawn_exactly_as_rich_draws_them() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 12)):
        rows = app.query_one(RowList)
        for style in (Style(), Style(bgcolor="blue", bold=True)):
            for width in (8, 40, 90):
                for text in _lines():
                    assert rows._strip(text, width, style) == _rich_strip(rows, text, width, style), text.plain


async def test_rows_that_only_moved_are_drawn_as_textual_draws_them() -> None:
    """The list keeps styled lines of rows that moved; what it shows equals what Textual's
    own styles cache draws for the same rows."""
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        rows = app.query_one(RowList)
        rows.replace_all([Item(i, i, f"item {i}") for i in range(100)])
        rows.focus()
        await pilot.pause()
        region = rows.size.region
        rows.render_lines(region)
        rows.upsert([Item(95, 1_000, "moved up"), Item(7, 1_001, "from far below")])
        await pilot.press("j")
        await pilot.pause()
        rows.refresh()
        shown = rows.render_lines(region)
        assert any("moved up" in strip.text for strip in shown)
        rows._styles_cache = StylesCache()
        assert shown == rows.render_lines(region)
