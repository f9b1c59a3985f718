"""Turning frames into JSON text and back, refusing hostile input before it costs anything.

Every frame on ``/chat`` and ``/bridge`` goes through :func:`decode` and :func:`encode`.
Decoding checks, in this order: text not binary, nesting depth (counted on the raw text,
before any parser recurses), JSON, a JSON object with a string ``type``, a known type,
the fields of that type, and text that can be stored (no lone UTF-16 surrogate, no NUL).
Each refusal is a :class:`WireError` with a stable code and a message fit to send back.
"""

from __future__ import annotations

import functools
import json
import re
from enum import StrEnum
from typing import Any

import msgspec

#: Deeper JSON than this is refused unparsed; no frame of the protocol nests past 4.
MAX_DEPTH = 16
#: An echoed value (an unknown type, say) is cut to this many characters.
MAX_ECHO_CHARS = 64

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class WireCode(StrEnum):
    """Error codes shared by both endpoints (each endpoint adds its own)."""

    BAD_JSON = "bad_json"  # not JSON, or not a JSON object with a "type"
    BAD_FRAME = "bad_frame"  # binary, too deep, unstorable text, or fields of the wrong type
    UNKNOWN_TYPE = "unknown_type"


class WireError(Exception):
    """A frame refused; ``code`` is stable, ``message`` says why in words.

    ``frame_type`` is the frame's ``type`` when it was read before the refusal."""

    def __init__(self, code: str, message: str, frame_type: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.frame_type = frame_type


class InvalidFields(WireError):
    """A known frame type whose fields have the wrong type, size or presence."""


class _Kind(msgspec.Struct):
    type: str


def echo(value: object) -> str:
    """A value from the client made safe to put in an error message: short, and
    encodable (a lone surrogate becomes a visible escape instead of breaking the encoder)."""
    text = repr(value)
    if len(text) > MAX_ECHO_CHARS:
        text = text[:MAX_ECHO_CHARS] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def too_deep(raw: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than ``limit``. Counted on
    the text, with strings skipped, so no parser recursion is spent on a hostile frame."""
    if raw.count("[") + raw.count("{") <= limit:
        return False  # the common case: a handful of brackets cannot nest deeper
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", raw) if '"' in raw else raw):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _first_unstorable(value: Any) -> str | None:
    """Why a decoded value cannot be stored as text, or None when it can."""
    if isinstance(value, str):
        if "\x00" in value:
            return "text may not contain NUL (U+0000)"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text may not contain a lone UTF-16 surrogate (\\ud800-\\udfff)"
        return None
    if isinstance(value, dict):
        items: Any = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = value
    elif isinstance(value, msgspec.Struct):
        items = [getattr(value, name) for name in value.__struct_fields__]
    else:
        return None
    for item in items:
        reason = _first_unstorable(item)
        if reason:
            return reason
    return None


def _why_not_decodable(raw: str) -> WireError:
    """msgspec refused the text: either it is not JSON, or it is JSON holding a lone
    surrogate (which msgspec rightly will not turn into a string)."""
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return WireError(WireCode.BAD_JSON, "the frame is not valid JSON")
    reason = _first_unstorable(parsed)
    if reason:
        kind = parsed.get("type") if isinstance(parsed, dict) else None
        return WireError(
            WireCode.BAD_FRAME, reason, kind if isinstance(kind, str) and not _first_unstorable(kind) else None
        )
    return WireError(WireCode.BAD_JSON, "the frame is not valid JSON (NaN and Infinity are not JSON)")


@functools.cache
def _decoder(frame_types: Any) -> msgspec.json.Decoder[Any]:
    """One decoder per type, built once (building one per frame costs more than decoding)."""
    return msgspec.json.Decoder(frame_types)


def decode(raw: str | bytes, frame_types: Any, known: frozenset[str]) -> msgspec.Struct:
    """One frame from a client, as one of ``frame_types`` (a union of Structs tagged on
    ``type`` whose tags are ``known``); :class:`WireError` when it is refused."""
    if isinstance(raw, bytes):
        raise WireError(WireCode.BAD_FRAME, "frames are JSON text, not binary")
    if too_deep(raw):
        raise WireError(WireCode.BAD_FRAME, f"the frame nests deeper than {MAX_DEPTH} levels")
    try:
        frame: msgspec.Struct = _decoder(frame_types).decode(raw)
    except msgspec.ValidationError:  # (a subclass of DecodeError: first)
        raise _why_invalid(raw, frame_types, known) from None
    except msgspec.DecodeError:
        raise _why_not_decodable(raw) from None
    reason = _first_unstorable(frame)
    if reason:
        raise WireError(WireCode.BAD_FRAME, reason, _tag_of(frame))
    return frame


def _tag_of(frame: msgspec.Struct) -> str | None:
    tag = type(frame).__struct_config__.tag
    return tag if isinstance(tag, str) else None


def _why_invalid(raw: str, frame_types: Any, known: frozenset[str]) -> WireError:
    """The text is JSON but not a valid frame: say which rule it broke."""
    try:
        kind = msgspec.json.decode(raw, type=_Kind).type
    except msgspec.DecodeError:
        return WireError(WireCode.BAD_JSON, 'a frame is a JSON object with a "type"')
    if kind not in known:
        return WireError(WireCode.UNKNOWN_TYPE, f"unknown frame type {echo(kind)}", kind)
    try:
        msgspec.json.decode(raw, type=frame_types)
    except msgspec.ValidationError as error:
        return InvalidFields(WireCode.BAD_FRAME, f"a {kind!r} frame: {error}", kind)
    return InvalidFields(WireCode.BAD_FRAME, f"a {kind!r} frame is not valid", kind)  # pragma: no cover


_ENCODER = msgspec.json.Encoder()


def encode(frame: msgspec.Struct) -> bytes:
    """A frame as compact UTF-8 JSON (send it as a text frame)."""
    return _ENCODER.encode(frame)


def encode_text(frame: msgspec.Struct) -> str:
    return _ENCODER.encode(frame).decode("utf-8")
