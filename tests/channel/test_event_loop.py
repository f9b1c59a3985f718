"""`inbox-tui serve` runs on uvloop where it is installed and on the standard loop otherwise."""

from __future__ import annotations

import asyncio
import sys

import pytest

from inbox_tui.channel.event_loop import loop_factory, loop_name


def test_without_uvloop_the_standard_loop_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed
    assert loop_factory() is asyncio.new_event_loop
    assert loop_name() == "asyncio"


def test_with_uvloop_installed_its_loop_is_used() -> None:
    uvloop = pytest.importorskip("uvloop")
    assert loop_factory() is uvloop.new_event_loop
    loop = loop_factory()()
    try:
        assert loop.run_until_complete(asyncio.sleep(0, result="ran")) == "ran"
    finally:
        loop.close()
