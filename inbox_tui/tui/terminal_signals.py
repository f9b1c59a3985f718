"""Escape sequences that reach a teammate outside the inbox's own screen: a desktop
notification (OSC 9 for iTerm2, WezTerm, Windows Terminal, kitty; OSC 777 for VTE
terminals such as GNOME Terminal, and foot) and the window title (OSC 2).

Alert text can carry a customer's name: every control character is removed before it
goes into a sequence, so nothing a customer typed can end it early or start another.
Inside tmux, OSC 9 and 777 are wrapped in tmux's DCS passthrough (it needs
``set -g allow-passthrough on``); OSC 2 is tmux's own pane title.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping

BEL = "\a"
MAX_CHARS = 200


def clean(text: str, *, limit: int = MAX_CHARS) -> str:
    """``text`` with no control characters (C0, C1, DEL) and at most ``limit`` characters."""
    kept = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(kept.split())[:limit]


def in_tmux(environ: Mapping[str, str] | None = None) -> bool:
    return bool((environ if environ is not None else os.environ).get("TMUX"))


def tmux_passthrough(sequence: str) -> str:
    """Wrap a sequence for tmux to hand to the outer terminal (each ESC doubled)."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def desktop_notification(title: str, body: str, *, tmux: bool = False) -> str:
    """OSC 9 and OSC 777 for one notification; a terminal ignores the one it lacks."""
    title, body = clean(title, limit=60), clean(body)
    osc9 = f"\x1b]9;{title}: {body}{BEL}"
    # OSC 777 separates its fields with ";": none may remain inside one.
    osc777 = f"\x1b]777;notify;{title.replace(';', ',')};{body.replace(';', ',')}{BEL}"
    if tmux:
        return tmux_passthrough(osc9) + tmux_passthrough(osc777)
    return osc9 + osc777


def window_title(text: str) -> str:
    return f"\x1b]2;{clean(text, limit=80)}{BEL}"


def title_with_unread(unread: int, name: str = "inbox-tui") -> str:
    return f"({unread}) {name}" if unread > 0 else name
