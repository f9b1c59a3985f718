"""The wire protocol's JSON Schema, generated from the frame types.

    python -m inbox_tui.wire.schema            # print it
    python -m inbox_tui.wire.schema out.json   # write it

One document for both endpoints: ``$defs`` holds every frame and object, and four
entry points name what each side may send.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import msgspec

from inbox_tui.wire.bridge import BridgeClientFrame, BridgeServerFrame
from inbox_tui.wire.customer import CustomerFrame, ServerFrame

#: Entry point name → the union of frames one side sends.
ENTRY_POINTS: dict[str, Any] = {
    "ChatClientFrame": CustomerFrame,  # customer → server on /chat
    "ChatServerFrame": ServerFrame,  # server → customer on /chat
    "BridgeClientFrame": BridgeClientFrame,  # agent client → server on /bridge
    "BridgeServerFrame": BridgeServerFrame,  # server → agent client on /bridge
}


def protocol_schema() -> dict[str, Any]:
    unions, definitions = msgspec.json.schema_components(list(ENTRY_POINTS.values()), ref_template="#/$defs/{name}")
    for name, union in zip(ENTRY_POINTS, unions, strict=True):
        definitions[name] = union
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "inbox-tui wire protocol (/chat and /bridge)",
        "anyOf": [{"$ref": f"#/$defs/{name}"} for name in ENTRY_POINTS],
        "$defs": definitions,
    }


def objects(schema: dict[str, Any]) -> dict[str, tuple[str | None, list[str]]]:
    """Every object the protocol defines: name → (its ``type`` tag or None, field names)."""
    found: dict[str, tuple[str | None, list[str]]] = {}
    for name, definition in schema["$defs"].items():
        properties = definition.get("properties")
        if definition.get("type") != "object" or properties is None:
            continue
        tag = properties.get("type", {}).get("enum", [None])[0]
        found[name] = (tag, [field for field in properties if field != "type"])
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = json.dumps(protocol_schema(), indent=2, ensure_ascii=False) + "\n"
    if args:
        with open(args[0], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
