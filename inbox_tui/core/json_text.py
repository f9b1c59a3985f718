"""The JSON columns' text on SQLite (the event log's payloads), through msgspec.

Every message appends an event whose payload the event feed reads back at once, so the
standard library's encoder and decoder ran twice per message in the chat server's
profile. msgspec writes the same JSON compactly, as UTF-8 rather than ``\\u`` escapes;
text it will not handle (a lone surrogate, an integer beyond 64 bits) goes through the
standard library as before, so nothing that was storable is refused.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def json_text(value: Any) -> str:
    try:
        return _encoder.encode(value).decode()
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return json.dumps(value)


def json_value(text: str | bytes) -> Any:
    try:
        return _decoder.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)
