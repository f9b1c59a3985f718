"""One line at the bottom: who you are, your availability, the bridge, the AI.

Its state is bound down from the inbox screen (``data_bind``); it repaints itself on a
change and once a second for the age of the last event.
"""

from __future__ import annotations

from datetime import datetime

from textual.reactive import var

from inbox_tui.core.models import Availability
from inbox_tui.core.records import AgentRef
from inbox_tui.core.store import Clock, utc_now
from inbox_tui.tui.bridge_status import BridgeState, BridgeStatus
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


def status_parts(
    *,
    loaded: bool,
    me: AgentRef | None,
    availability: str | None,
    bridge: BridgeStatus,
    last_event_at: datetime | None,
    now: datetime,
    ai_label: str,
) -> list[Part]:
    if not loaded:
        # Until the token is checked nothing is known: say that, not "not signed in".
        return [("opening the inbox…", "$text-muted")]
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
        parts += [(f" · last event {since}" + (" ago" if last_event_at and since != "now" else ""), "$text-muted")]
    elif bridge.detail and bridge.state is not BridgeState.CONNECTING:
        parts += [(f" · {literal(bridge.detail, single_line=True, limit=60)}", "$text-muted")]
    parts += [" │ AI: ", (ai_label, "$text-muted")]
    return parts


class StatusBar(OneLine):
    """Who you are, your availability, the bridge, the AI."""

    loaded: var[bool] = var(False, init=False)
    me: var[AgentRef | None] = var(None, init=False)
    availability: var[str | None] = var(None, init=False)
    bridge_status: var[BridgeStatus] = var(BridgeStatus(BridgeState.OFF), init=False)
    last_event_at: var[datetime | None] = var(None, init=False)
    ai_label: var[str] = var("…", init=False)

    def __init__(self, *, clock: Clock = utc_now, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    def on_mount(self) -> None:
        self._repaint()
        # The age of the last event moves on; repainting only this line is cheap.
        self.set_interval(1.0, self._repaint)

    def _repaint(self) -> None:
        self.show_parts(
            status_parts(
                loaded=self.loaded,
                me=self.me,
                availability=self.availability,
                bridge=self.bridge_status,
                last_event_at=self.last_event_at,
                now=self.clock(),
                ai_label=self.ai_label,
            )
        )

    def watch_loaded(self) -> None:
        self._repaint()

    def watch_me(self) -> None:
        self._repaint()

    def watch_availability(self) -> None:
        self._repaint()

    def watch_bridge_status(self) -> None:
        self._repaint()

    def watch_ai_label(self) -> None:
        self._repaint()

    # last_event_at has no watcher on purpose: repainting the bar with every live event
    # would make each frame span the screen; the one-second tick shows it.
