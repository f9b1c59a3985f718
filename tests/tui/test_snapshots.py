"""SVG snapshots of every view at 120×40 and 80×24 (the smallest supported size), and of
the themes, with a fixed clock, no cursor blink and no animations.

Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs
(``tests/tui/__snapshots__/``) before committing them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import Inbox, wait_until

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


def quiet(app: Any) -> bool:
    busy = any(w.is_running for w in app.workers if w.group in ("list", "detail", "flow", "counts"))
    return not busy and not app.inbox._counts_dirty


def settled(app: Any, *, view_key: str | None = None, then: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Any) -> None:
        await app.started_up.wait()
        if view_key:
            await pilot.press(view_key)
            await wait_until(
                pilot,
                lambda: (
                    app.inbox.view.value
                    == {
                        "1": "conversations",
                        "2": "on_you",
                        "3": "unassigned",
                        "4": "all_open",
                        "5": "mentions",
                        "6": "closed",
                    }[view_key]
                ),
            )
        await wait_until(pilot, lambda: not any(w.is_running for w in app.workers if w.group in ("list", "detail")))
        for key in then:
            await pilot.press(key)
        await pilot.pause(0.2)
        await wait_until(pilot, lambda: not any(w.is_running for w in app.workers if w.group in ("list", "detail")))
        # Showing a row marks it read: let that flow and the unread counts after it land.
        for _ in range(2):
            await wait_until(pilot, lambda: quiet(app), timeout=20)
            await pilot.pause(0.4)
        app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view_key", ["1", "2", "3", "4", "5", "6"])
def test_each_view(snap_compare: Any, inbox: Inbox, view_key: str, size: tuple[int, int]) -> None:
    # Mentions shows Bob's view (Ana mentioned him); every other view is Ana's.
    app = inbox.app("bob" if view_key == "5" else "ana")
    assert snap_compare(app, terminal_size=size, run_before=settled(app, view_key=view_key))


THEMES = ["inbox-dark", "inbox-light", "inbox-high-contrast"]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("view_key", [pytest.param("1", id="conversations"), pytest.param("4", id="all-open")])
def test_lists_with_unread_and_waiting_marks(
    snap_compare: Any, busy_inbox: Inbox, view_key: str, theme: str, size: tuple[int, int]
) -> None:
    """Unread badges, waits (yellow), and a tag only on rows of two customers of one name."""
    app = busy_inbox.app(theme=theme)
    assert snap_compare(app, terminal_size=size, run_before=settled(app, view_key=view_key))


@pytest.mark.parametrize("size", SIZES)
def test_composing_an_internal_note(snap_compare: Any, inbox: Inbox, size: tuple[int, int]) -> None:
    app = inbox.app()
    assert snap_compare(app, terminal_size=size, run_before=settled(app, view_key="2", then=("n", *"ping @b")))


@pytest.mark.parametrize("theme", ["inbox-light", "inbox-high-contrast"])
def test_themes(snap_compare: Any, inbox: Inbox, theme: str) -> None:
    app = inbox.app(theme=theme)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(app, view_key="2", then=("r",)))


def test_help_screen(snap_compare: Any, inbox: Inbox) -> None:
    app = inbox.app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(app, then=("question_mark",)))


def test_not_signed_in(snap_compare: Any, inbox: Inbox) -> None:
    app = inbox.app(None, agent_handle="cleo")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(app))


def test_a_ticket_at_60x20(snap_compare: Any, inbox: Inbox) -> None:
    """Below the supported size the views fold to one short line and the transcript keeps lines."""
    app = inbox.app()
    assert snap_compare(app, terminal_size=(60, 20), run_before=settled(app, view_key="2"))
