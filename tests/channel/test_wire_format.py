"""The typed wire format: one definition of every frame, its schema, and the README."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inbox_tui import wire
from inbox_tui.core.events import event_to_dict
from inbox_tui.core.models import Event as EventRow
from inbox_tui.wire.schema import objects, protocol_schema

README = Path(__file__).resolve().parents[2] / "README.md"


def _protocol_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## The customer protocol")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_readme_documents_every_frame_and_field_of_the_schema() -> None:
    section = _protocol_section()
    for name, (tag, fields) in objects(protocol_schema()).items():
        if tag is not None:
            assert f'"type": "{tag}"' in section, f"the README shows no {tag!r} frame ({name})"
        for field in fields:
            assert f'"{field}"' in section, f"the README's example of {name} lacks {field!r}"
            assert f"`{field}`" in section, f"the README does not explain {name}.{field}"


def test_the_readme_shows_no_frame_the_protocol_lacks() -> None:
    tags = {tag for tag, _ in objects(protocol_schema()).values() if tag}
    shown = set(re.findall(r'"type": "(\w+)"', _protocol_section()))
    assert shown and shown <= tags, shown - tags


def test_the_schema_is_printed_by_its_module(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    subprocess.run([sys.executable, "-m", "inbox_tui.wire.schema", str(out)], check=True, timeout=60)
    schema = json.loads(out.read_text(encoding="utf-8"))
    assert schema == json.loads(json.dumps(protocol_schema()))
    assert {"ChatClientFrame", "ChatServerFrame", "BridgeClientFrame", "BridgeServerFrame"} <= set(schema["$defs"])


def test_bridge_events_keep_the_keys_agent_clients_read() -> None:
    """The event frame is the same JSON as before the typed format (the inbox reads it
    as an object), and decode_event turns it back into the typed event."""
    row = EventRow(
        id=41,
        kind="message",
        conversation_id=7,
        ticket_id=None,
        agent_id=None,
        payload={"message_id": 3, "author": "customer", "name": "Ana", "text": "hola", "client_id": "x"},
        created_at=datetime(2026, 11, 21, 9, 30, tzinfo=UTC),
    )
    from inbox_tui.channel.event_feed import LoggedEvent

    frame = LoggedEvent(row).bridge_frame
    assert json.loads(frame) == {"type": "event", "event": event_to_dict(row)}
    event = wire.decode_event(frame)
    assert event.id == 41 and event.payload["text"] == "hola" and event.at == "2026-11-21T09:30:00+00:00"
    assert wire.decode_event(frame.decode()) == event
    with pytest.raises(wire.WireError):
        wire.decode_event('{"type": "pong"}')


def test_frames_read_like_their_json() -> None:
    message = wire.ChatMessage(id=1, author="bot", name="Assistant", text="hi", at="2026-11-21T09:30:00+00:00")
    assert message["type"] == message.get("type") == message.type == "message"
    assert message["text"] == "hi" and message.get("missing", 5) == 5
    with pytest.raises(KeyError):
        message["missing"]
    assert json.loads(wire.encode(message)) == {
        "type": "message",
        "id": 1,
        "author": "bot",
        "name": "Assistant",
        "text": "hi",
        "at": "2026-11-21T09:30:00+00:00",
    }
    # An error frame without a client id leaves the key out; an ack always has it.
    assert json.loads(wire.encode(wire.ErrorFrame(code="bad_json", message="no"))) == {
        "type": "error",
        "code": "bad_json",
        "message": "no",
    }
    assert json.loads(wire.encode(wire.Ack(client_id=None, id=3, at="t")))["client_id"] is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("[" * 5000 + "]" * 5000, "bad_frame"),
        ('{"type": "message", "text": ' + "[" * 17 + "]" * 17 + "}", "bad_frame"),
        ('{"type": "message", "text": "a\\ud800b"}', "bad_frame"),
        ('{"type": "message", "text": "a\\u0000b"}', "bad_frame"),
        ('{"type": "hello", "customer": {"id": "c\\u0000"}}', "bad_frame"),
        ('{"type": "message", "text": "hi", "client_id": "\\udfff"}', "bad_frame"),
        ('{"type": "message", "text": NaN}', "bad_json"),
        ('{"type": "message", "text": 1e999}', "bad_frame"),
        ('{"type": "\\ud800"}', "bad_frame"),
        ('{"type": "x\\u0000"}', "unknown_type"),
        ('"hello"', "bad_json"),
    ],
)
def test_the_codec_refuses_hostile_input_with_a_stable_code(raw: str, code: str) -> None:
    with pytest.raises(wire.WireError) as refused:
        wire.decode_customer_frame(raw)
    assert refused.value.code == code
    refused.value.message.encode("utf-8")  # the message is always sendable


def test_a_string_that_only_looks_deep_is_not_refused() -> None:
    text = "[" * 100 + "{" * 100
    frame = wire.decode_customer_frame(json.dumps({"type": "message", "text": text, "client_id": "a"}))
    assert isinstance(frame, wire.SendMessage) and frame.text == text


def test_the_wire_package_is_a_leaf_every_layer_may_import() -> None:
    code = (
        "import json, sys, inbox_tui.wire, inbox_tui.wire.schema; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.startswith('inbox_tui') or m in ('textual', 'sqlalchemy'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60).stdout
    modules = json.loads(loaded)
    assert all(m == "inbox_tui" or m.startswith("inbox_tui.wire") for m in modules), modules
