"""A line-rendered list for thousands of live rows (the Toolong model).

Only the visible lines are rendered (``ScrollView.render_line``); rows are plain records
kept in a dict by key and one sorted key list, so a burst of updates costs a sort of
keys, not a rebuild of widgets. The cursor follows its row's key, so the selection stays
on the same conversation when new rows arrive above it.

Rows that look alike (two customers called Marco Rossi) are told apart only while both
are in the list: the list counts, per ``namesake`` group, the distinct identities among
its rows, and tells ``render`` whether a row has a namesake.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual._styles_cache import StylesCache
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

R = TypeVar("R")


@dataclass(frozen=True)
class RowSpec(Generic[R]):
    """How one kind of record is keyed, ordered, searched and drawn."""

    key: Callable[[R], str]
    order: Callable[[R], Any]  # ascending; use negated times for newest first
    search_text: Callable[[R], str]
    # record, width, whether another row of the list is its namesake -> one line
    render: Callable[[R, int, bool], Text]
    # What makes a line change without its record changing (an age label): part of the
    # rendered-line cache key, so cached lines never show a stale age.
    stamp: Callable[[R], Hashable] = lambda record: None
    # (what a row looks like, who it is): rows that look alike but are different people
    # are namesakes. None: rows are never told apart.
    namesake: Callable[[R], tuple[Hashable, Hashable]] | None = None


class RowList(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    RowList { height: 1fr; overflow-x: hidden; }
    RowList > .row-list--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    RowList:blur > .row-list--cursor { background: $block-cursor-blurred-background; text-style: none; }
    RowList > .row-list--empty { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"row-list--cursor", "row-list--empty"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="list.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="list.page_up"),
        Binding("home,g", "first", "First", show=False, id="list.first"),
        Binding("end,G", "last", "Last", show=False, id="list.last"),
        Binding("enter", "choose", "Open", show=False, id="list.open"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(Message):
        """The cursor moved to another row (or the list became empty: key is None)."""

        def __init__(self, row_list: RowList, key: str | None, record: Any) -> None:
            super().__init__()
            self.row_list = row_list
            self.key = key
            self.record = record

        @property
        def control(self) -> RowList:
            return self.row_list

    class Chosen(Highlighted):
        """Enter or a click on a row."""

    def __init__(self, spec: RowSpec[Any], *, empty_text: str = "Nothing here.", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.empty_text = empty_text
        self._records: dict[str, Any] = {}
        self._order_keys: dict[str, Any] = {}
        self._sorted: list[tuple[Any, str]] = []  # (order, key), kept sorted
        self._ordered: list[str] = []
        self._visible: list[str] = []
        self._filter = ""
        # Lower-cased search text by key, made when a filter first needs it: typing in the
        # filter or a live update while it is set must not rebuild it for every row.
        self._haystacks: dict[str, str] = {}
        self._cursor_key: str | None = None
        self._announced: tuple[str | None, Any] | None = None
        self._line_cache: LRUCache[tuple[Any, ...], tuple[Any, Strip]] = LRUCache(1024)
        # Look → identity → how many rows: kept in step with the rows, one change at a time.
        self._looks: dict[Hashable, dict[Hashable, int]] = {}
        self._frame: _FrameStyles | None = None
        self._styled_rows = self._styles_cache = _StyledRows()
        self._parsed_styles: dict[str, Style] = {}

    # ----- data -------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._visible)

    @property
    def keys(self) -> list[str]:
        return list(self._visible)

    @property
    def cursor_key(self) -> str | None:
        return self._cursor_key

    @property
    def cursor_record(self) -> Any:
        return self._records.get(self._cursor_key) if self._cursor_key else None

    def record(self, key: str) -> Any:
        return self._records.get(key)

    def set_spec(self, spec: RowSpec[Any], empty_text: str) -> None:
        self.spec = spec
        self._haystacks.clear()
        self.empty_text = empty_text
        # The rows may be of another kind now: they are counted again as they are replaced.
        self._looks.clear()

    def has_namesake(self, record: Any) -> bool:
        """Whether another person's row in the list looks like this one."""
        if self.spec.namesake is None:
            return False
        look, _ = self.spec.namesake(record)
        return len(self._looks.get(look, ())) > 1

    def _count_looks(self) -> None:
        self._looks.clear()
        if self.spec.namesake is not None:
            for record in self._records.values():
                self._add_look(record, 1)

    def _add_look(self, record: Any, step: int) -> None:
        if self.spec.namesake is None:
            return
        look, identity = self.spec.namesake(record)
        identities = self._looks.get(look)
        if identities is None:
            identities = self._looks[look] = {}
        count = identities.get(identity, 0) + step
        if count > 0:
            identities[identity] = count
        else:
            identities.pop(identity, None)
            if not identities:
                del self._looks[look]

    def replace_all(self, records: Iterable[Any], *, select_key: str | None = None) -> None:
        key, order = self.spec.key, self.spec.order
        self._records = {key(r): r for r in records}
        self._count_looks()
        self._haystacks.clear()
        self._order_keys = {k: order(r) for k, r in self._records.items()}
        self._sorted = sorted((o, k) for k, o in self._order_keys.items())
        if select_key is not None:
            self._cursor_key = select_key
        self._reordered()

    def resort(self) -> None:
        """Order every row again by the spec's order (the spec changed)."""
        self.replace_all(list(self._records.values()))

    def upsert(self, records: Iterable[Any]) -> None:
        """Add or move rows. A few rows (the live case) cost a bisect each, not a sort."""
        records = list(records)
        if len(records) > 256:
            self.replace_all([*self._records.values(), *records])
            return
        key, order = self.spec.key, self.spec.order
        for record in records:
            k = key(record)
            new_order = order(record)
            old_order = self._order_keys.get(k)
            if k in self._records:
                self._add_look(self._records[k], -1)
            self._add_look(record, 1)
            self._records[k] = record
            self._haystacks.pop(k, None)
            if old_order == new_order:
                continue
            # _sorted and _ordered move in step, so neither is rebuilt (10,000 keys).
            if old_order is not None:
                index = bisect_left(self._sorted, (old_order, k))
                del self._sorted[index]
                del self._ordered[index]
            index = bisect_left(self._sorted, (new_order, k))
            self._sorted.insert(index, (new_order, k))
            self._ordered.insert(index, k)
            self._order_keys[k] = new_order
        self._refilter()

    def remove_rows(self, keys: Iterable[str]) -> None:
        changed = False
        for k in keys:
            if (record := self._records.pop(k, None)) is not None:
                self._add_look(record, -1)
                self._haystacks.pop(k, None)
                index = bisect_left(self._sorted, (self._order_keys.pop(k), k))
                del self._sorted[index]
                del self._ordered[index]
                changed = True
        if changed:
            self._refilter()

    def set_filter(self, text: str) -> None:
        self._filter = text.strip().lower()
        self._refilter()

    def select_key(self, key: str) -> bool:
        if key in self._records:
            self._cursor_key = key
            self._refilter()
            return True
        return False

    def _haystack(self, key: str) -> str:
        haystack = self._haystacks.get(key)
        if haystack is None:
            haystack = self._haystacks[key] = self.spec.search_text(self._records[key]).lower()
        return haystack

    def _reordered(self) -> None:
        self._ordered = [k for _, k in self._sorted]
        self._refilter()

    def _refilter(self) -> None:
        if self._filter:
            needle = self._filter
            self._visible = [k for k in self._ordered if needle in self._haystack(k)]
        else:
            self._visible = self._ordered
        index: int | None = None
        if self._cursor_key is not None:
            try:
                index = self._visible.index(self._cursor_key)
            except ValueError:
                index = None
        if index is None:
            # The selected row left the list: stay at the same height, clamped.
            index = min(self.cursor, len(self._visible) - 1) if self._visible else 0
        self._size_virtually()
        self._move_to(index, keep_in_view=False)
        self.refresh()

    # ----- cursor -----------------------------------------------------------

    def _move_to(self, index: int, *, keep_in_view: bool = True) -> None:
        if self._visible:
            index = max(0, min(index, len(self._visible) - 1))
            self._cursor_key = self._visible[index]
        else:
            index = 0
            self._cursor_key = None
        self.set_reactive(RowList.cursor, index)
        if keep_in_view:
            self._scroll_cursor_into_view()
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        current = (self._cursor_key, self.cursor_record)
        if current != self._announced:
            self._announced = current
            # Sent by the list itself, whoever caused the move: Textual stops a bubbling
            # message at its sender, and a pane that reloads the rows must not swallow it.
            self.post_message(self.Highlighted(self, *current).set_sender(self))

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self._move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move_to(self.cursor - 1)

    def action_page_down(self) -> None:
        self._move_to(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_page_up(self) -> None:
        self._move_to(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self._visible) - 1)

    def action_choose(self) -> None:
        if self._cursor_key is not None:
            self.post_message(self.Chosen(self, self._cursor_key, self.cursor_record).set_sender(self))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = int(self.scroll_y) + offset.y
        if 0 <= index < len(self._visible):
            self._move_to(index)
            if event.chain >= 2:
                self.action_choose()

    # ----- rendering --------------------------------------------------------

    def notify_style_update(self) -> None:
        self._line_cache.clear()  # focus (the cursor colour) or the theme changed
        self._parsed_styles.clear()
        self._styled_rows.forget_styled()
        super().notify_style_update()

    def _size_virtually(self) -> None:
        # Rows never scroll sideways (they are cut to the width), and an unchanged size
        # must not be set again: each change asks the screen for a new layout.
        size = Size(self.scrollable_content_region.width, len(self._visible))
        if size != self.virtual_size:
            self.virtual_size = size

    def on_resize(self, event: events.Resize) -> None:
        self._size_virtually()
        self._scroll_cursor_into_view()

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every line of a frame shares is worked out once per frame: the base style
        # walks every ancestor's styles, which cost more than a cached line itself.
        self._frame = self._frame_styles()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _frame_styles(self) -> _FrameStyles:
        base = self.rich_style
        return _FrameStyles(
            width=self.scrollable_content_region.width,
            base=base,
            cursor=base + self.get_component_rich_style("row-list--cursor"),
            theme=self.app.theme,
        )

    def render_line(self, y: int) -> Strip:
        frame = self._frame or self._frame_styles()
        width, base = frame.width, frame.base
        index = int(self.scroll_y) + y
        if not self._visible:
            if y == 0:
                text = Text(self.empty_text, end="")
                return self._strip(text, width, base + self.get_component_rich_style("row-list--empty"))
            return Strip.blank(width, base)
        if index >= len(self._visible):
            return Strip.blank(width, base)
        key = self._visible[index]
        record = self._records[key]
        is_cursor = index == self.cursor
        namesake = self.has_namesake(record)
        # Lines are cached: a live burst reorders rows but rarely changes what one looks like.
        cache_key = (key, id(record), width, is_cursor, namesake, self.spec.stamp(record), frame.theme)
        strip = self._line_cache.get(cache_key)
        if strip is None or strip[0] is not record:
            style = frame.cursor if is_cursor else base
            strip = (record, self._strip(self.spec.render(record, width, namesake), width, style))
            self._line_cache[cache_key] = strip
        return strip[1]

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        if text.cell_len != width:
            text = text.copy()
            text.truncate(width, overflow="ellipsis", pad=True)
        segments = self._segments(text, style)
        if segments is None:  # spans that overlap: Rich works out the styles
            segments = [
                Segment(s.text, style + s.style if s.style else style, s.control)
                for s in text.render(self.app.console)
                if s.text != "\n"
            ]
        return Strip(segments, width).crop_extend(0, width, style).simplify()

    def _segments(self, text: Text, style: Style) -> list[Segment] | None:
        """The segments Rich would render for ``text`` on ``style``, when its spans follow
        one another without overlapping (as rows are built: one append per cell); None
        otherwise. Rich's general renderer costs most of a line that is not cached."""
        plain = text.plain
        style_of = self._style_of
        base = style + style_of(text.style)
        segments: list[Segment] = []
        position = 0
        for span in text.spans:
            start, end = span.start, min(span.end, len(plain))
            if start < position:
                return None
            if start >= end:
                continue
            if start > position:
                segments.append(Segment(plain[position:start], base))
            segments.append(Segment(plain[start:end], base + style_of(span.style)))
            position = end
        if position < len(plain):
            segments.append(Segment(plain[position:], base))
        return segments

    def _style_of(self, style: str | Style) -> Style:
        """A span's style (a name such as ``bold dim`` or a Style), parsed once."""
        if isinstance(style, Style):
            return style
        parsed = self._parsed_styles.get(style)
        if parsed is None:
            parsed = self._parsed_styles[style] = self.app.console.get_style(style, default=Style.null())
        return parsed


class _StyledRows(StylesCache):
    """Textual's styles cache, which also keeps each row line's styled strip: in a live
    list most rows only move up or down from one frame to the next, and a moved row is
    not styled (and then filtered and divided by the compositor) again. Only for a list
    without border, outline or padding, whose lines then do not depend on their y."""

    def __init__(self) -> None:
        super().__init__()
        self._styled: LRUCache[int, tuple[Strip, tuple[Any, ...], Strip]] = LRUCache(256)

    def forget_styled(self) -> None:
        self._styled.clear()

    def render_line(
        self,
        styles: Any,
        y: int,
        size: Size,
        content_size: Size,
        padding: Any,
        base_background: Any,
        background: Any,
        render_content_line: Callable[[int], Strip],
        *rest: Any,
    ) -> Strip:
        if y >= content_size.height or any(padding) or any(styles.gutter) or any(e for e, _ in styles.outline):
            return super().render_line(
                styles, y, size, content_size, padding, base_background, background, render_content_line, *rest
            )
        content = render_content_line(y)
        key = (size, content_size, base_background, background, styles.text_opacity, styles.tint, *rest)
        cached = self._styled.get(id(content))
        if cached is not None and cached[0] is content and cached[1] == key:
            return cached[2]
        strip = super().render_line(
            styles, y, size, content_size, padding, base_background, background, lambda _y: content, *rest
        )
        self._styled[id(content)] = (content, key, strip)
        return strip


@dataclass(frozen=True)
class _FrameStyles:
    width: int
    base: Style
    cursor: Style
    theme: str


__all__ = ["RowList", "RowSpec"]
