"""One line at the bottom: who you are, your availability, the bridge, the AI."""

from __future__ import annotations

from datetime import datetime

from inbox_tui.core.models import Availability
from inbox_tui.core.records import AgentRef
from inbox_tui.tui.bridge_client import BridgeState, BridgeStatus
from inbox_tui.tui.formatting import age
from inbox_tui.tui.safe_text import literal
from inbox_tui.tui.widgets.one_line import OneLine, Part

BRIDGE_STYLE = {
    BridgeState.CONNECTED: "bold $success",
    BridgeState.CONNECTING: "$warning",
    BridgeState.RECONNECTING: "bold $warning",
    BridgeState.UNAUTHORIZED: "bold $error",
    BridgeState.OFF: "$text-muted",
}


class StatusBar(OneLine):
    """Who you are, your availability, the bridge, the AI."""

    def show(
        self,
        me: AgentRef | None,
        availability: str | None,
        bridge: BridgeStatus,
        last_event_at: datetime | None,
        now: datetime,
        ai_label: str,
    ) -> None:
        parts: list[Part] = []
        if me is None:
            parts += [("not signed in", "bold $error"), (" (read-only; set INBOX_TOKEN) ", "$text-muted")]
        else:
            parts += [(literal(me.label, single_line=True), "bold"), " "]
            if availability == Availability.AWAY:
                parts += [("● away", "bold $warning")]
            else:
                parts += [("● available", "bold $success")]
            parts += [(" [v] ", "$text-muted")]
        parts += ["│ bridge: ", (bridge.state.value, BRIDGE_STYLE[bridge.state])]
        if bridge.state is BridgeState.CONNECTED:
            since = age(now, last_event_at) if last_event_at else "—"
            parts += [(f" · last event {since}" + (" ago" if last_event_at and since != "now" else ""),
                       "$text-muted")]
        elif bridge.detail and bridge.state is not BridgeState.CONNECTING:
            parts += [(f" · {literal(bridge.detail, single_line=True, limit=60)}", "$text-muted")]
        parts += [" │ AI: ", (ai_label, "$text-muted")]
        self.show_parts(parts)
