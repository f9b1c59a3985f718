"""One typed wire format for ``/chat`` and ``/bridge``: every frame and event defined
once, as msgspec Structs tagged on ``type``, shared by the server, the agent and
customer clients, the load generator and the protocol's documentation.

A leaf package: it imports nothing else of the project, so every layer may use it.
"""

from inbox_tui.wire.bridge import (
    AUTH_TIMEOUT_SECONDS,
    BRIDGE_PATH,
    CLOSE_UNAUTHORIZED,
    MAX_EVENT_ID,
    AgentInfo,
    Auth,
    BridgeClientFrame,
    BridgeCode,
    BridgeError,
    BridgeServerFrame,
    Event,
    EventFrame,
    Ping,
    Pong,
    Ready,
    decode_bridge_client_frame,
    decode_bridge_server_frame,
    decode_event,
)
from inbox_tui.wire.codec import MAX_DEPTH, WireError, encode, encode_text
from inbox_tui.wire.customer import (
    CHAT_PATH,
    Ack,
    ChatMessage,
    Customer,
    CustomerFrame,
    ErrorCode,
    ErrorFrame,
    Hello,
    ModeChange,
    SendMessage,
    ServerFrame,
    Welcome,
    decode_customer_frame,
    decode_server_frame,
)
from inbox_tui.wire.frame import WireFrame, WireObject

__all__ = [
    "AUTH_TIMEOUT_SECONDS", "BRIDGE_PATH", "CHAT_PATH", "CLOSE_UNAUTHORIZED", "MAX_DEPTH", "MAX_EVENT_ID",
    "Ack", "AgentInfo", "Auth", "BridgeClientFrame", "BridgeCode", "BridgeError", "BridgeServerFrame",
    "ChatMessage", "Customer", "CustomerFrame", "ErrorCode", "ErrorFrame", "Event", "EventFrame", "Hello",
    "ModeChange", "Ping", "Pong", "Ready", "SendMessage", "ServerFrame", "Welcome", "WireError", "WireFrame",
    "WireObject", "decode_bridge_client_frame", "decode_bridge_server_frame", "decode_customer_frame",
    "decode_event", "decode_server_frame", "encode", "encode_text",
]
