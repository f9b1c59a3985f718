"""Rules of the code base that a reader cannot see from one call site (issue 16, section 6):
timeouts with ``asyncio.timeout`` (``wait_for`` on Python 3.11 can drop a cancel that lands
as its work finishes), no task whose only reference is dropped at once (the loop keeps
only weak references: it can be collected before it ran), and string constants as
``StrEnum``."""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path

import pytest

from inbox_tui.core.events import EventKind
from inbox_tui.wire.bridge import BridgeCode
from inbox_tui.wire.codec import WireCode
from inbox_tui.wire.customer import Author, ErrorCode, Mode

PACKAGE = Path(__file__).resolve().parents[2] / "inbox_tui"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
TASK_STARTERS = {"create_task", "ensure_future"}


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    function = call.func
    if isinstance(function, ast.Attribute):
        return f"{ast.unparse(function.value)}.{function.attr}"
    return ast.unparse(function)


def test_the_package_has_sources() -> None:
    assert len(SOURCES) > 50


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_timeouts_use_asyncio_timeout_and_every_task_is_kept(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    waits = [call.lineno for call in _calls(tree) if _name(call) == "asyncio.wait_for"]
    assert waits == [], f"asyncio.wait_for at lines {waits}: use `async with asyncio.timeout(...)`"
    dropped = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and _name(node.value).rsplit(".", 1)[-1] in TASK_STARTERS
    ]
    assert dropped == [], f"a task started and its reference dropped at lines {dropped}"


@pytest.mark.parametrize("constants", [EventKind, WireCode, BridgeCode, ErrorCode, Author, Mode])
def test_string_constants_are_str_enums_with_their_wire_values(constants: type[StrEnum]) -> None:
    assert issubclass(constants, StrEnum)
    for member in constants:
        assert member == member.value and isinstance(member.value, str) and member.value.islower()


def test_the_shared_codes_keep_their_values_in_each_endpoint() -> None:
    for code in WireCode:
        assert ErrorCode[code.name] == BridgeCode[code.name] == code.value
    assert ErrorCode.UNAVAILABLE == BridgeCode.UNAVAILABLE == "unavailable"
