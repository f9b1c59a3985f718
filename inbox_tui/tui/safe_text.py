"""Customer-written text, made harmless for the screen.

Everything a customer (or the bot quoting one) wrote goes through :func:`literal` before
it reaches a widget, and is then handed over as ``Content``/``Text`` or with
``markup=False`` so that ``[b]`` or ``[@click=app.quit]`` is never parsed. Control
characters are replaced by visible symbols rather than dropped, so an attempted
``\\x1b]52;…`` clipboard write shows up as ``␛]52;…`` instead of reaching the terminal.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from inbox_tui.untrusted_text import literal

__all__ = ["literal", "literal_content", "literal_text"]


def literal_text(text: str | None, style: str = "", *, single_line: bool = False) -> Text:
    """A Rich ``Text`` that is never parsed as markup."""
    return Text(literal(text, single_line=single_line), style=style, end="")


def literal_content(text: str | None, *, single_line: bool = False) -> Content:
    """A Textual ``Content`` that is never parsed as markup."""
    return Content(literal(text, single_line=single_line))
