"""What the inbox knows of its bridge to the server: a state and a line to show.

Apart from the client (``bridge_client``) so that the screen and the status bar, which
show it from the first paint, do not import the websocket library before the bridge
starts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BridgeState(StrEnum):
    OFF = "off"  # not signed in, or switched off
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    UNAUTHORIZED = "unauthorized"


@dataclass(frozen=True)
class BridgeStatus:
    state: BridgeState
    detail: str = ""
    retry_in: float | None = None
