"""Untrusted text (what a customer wrote) with every control character made visible.

Shared by the inbox and the terminal customer client, so it imports nothing of Textual.
Control characters are replaced by visible symbols rather than dropped, so an attempted
``\\x1b]52;…`` clipboard write shows up as ``␛]52;…`` instead of reaching the terminal.
"""

from __future__ import annotations

import unicodedata

# Bidirectional overrides can reorder what a teammate reads (the "Trojan Source" trick).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟, e.g. ESC → ␛
    if code == 0x7F:
        return "␡"
    return f"<U+{code:04X}>"


def literal(text: str | None, *, single_line: bool = False, limit: int | None = None) -> str:
    """``text`` with every control character made visible.

    ``single_line`` folds line breaks and tabs into spaces (list cells, titles, toasts).
    """
    if not text:
        return ""
    if text.isprintable() and (limit is None or len(text) <= limit):
        # The common case, in C: no control, format (bidi) or separator characters.
        return " ".join(text.split()) if single_line else text
    out: list[str] = []
    for index, char in enumerate(text):
        if char == "\n" or char == "\t":
            out.append(" " if single_line else char)
        elif char == "\r":
            # A line break written as \r\n is a line break; a lone \r (which would
            # return the cursor over what is shown) is made visible, never dropped.
            if single_line:
                out.append(" ")
            elif not text.startswith("\n", index + 1):
                out.append(_visible(char))
        elif char in _BIDI_CONTROLS or (
            ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F or unicodedata.category(char) == "Cc"
        ):
            out.append(_visible(char))
        else:
            out.append(char)
    result = "".join(out)
    if single_line:
        result = " ".join(result.split())
    if limit is not None and len(result) > limit:
        result = result[: max(limit - 1, 0)] + "…"
    return result
