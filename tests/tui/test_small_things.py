"""Small things found when the inbox was tried as a new user would (issue 16, section 6)."""

from __future__ import annotations

from textual.widget import Widget
from websockets.exceptions import ConnectionClosedError

from inbox_tui.core.views import View
from inbox_tui.tui.bridge_client import _describe
from inbox_tui.tui.widgets.row_list import RowList


def test_no_name_shadows_what_textual_or_str_already_mean() -> None:
    # RowList.remove took Widget.remove's name (removing the widget) for removing rows.
    assert RowList.remove is Widget.remove
    assert "remove_rows" in vars(RowList)
    # View.title shadowed str.title on a StrEnum.
    assert View.CONVERSATIONS.title() == "Conversations" and "title" not in vars(View)
    assert View.ALL_OPEN.label == "All open"


def test_the_reason_a_server_is_not_reachable_is_said_once() -> None:
    """The inbox says "The server at … is not reachable (<reason>)": the reason alone, never
    "server unreachable (connection refused)" inside it."""
    reasons = [
        _describe(ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")),
        _describe(ConnectionClosedError(None, None)),
        _describe(TimeoutError()),
        _describe(OSError(101, "Network is unreachable")),
    ]
    assert reasons == ["connection refused", "connection dropped", "server not answering", "Network is unreachable"]
    assert not any("reachable (" in reason or "server unreachable" in reason for reason in reasons)
