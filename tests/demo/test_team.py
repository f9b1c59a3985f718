"""Demo teammates on a real SQLite file: created once, tokens kept and working."""

from __future__ import annotations

import stat
from pathlib import Path

from inbox_tui.core.agents import authenticate, rotate_token
from inbox_tui.core.store import Store
from inbox_tui.demo.team import DEMO_TEAM, DEMO_USER, ensure_demo_team


async def test_team_is_created_once_and_tokens_authenticate(store: Store, tmp_path: Path) -> None:
    tokens_file = tmp_path / "demo-team.json"
    tokens = await ensure_demo_team(store, tokens_file)
    assert set(tokens) == {t.handle for t in DEMO_TEAM}
    for handle, token in tokens.items():
        agent = await authenticate(store, token)
        assert agent is not None and agent.handle == handle
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600

    # A second start keeps the same teammates and the same tokens.
    assert await ensure_demo_team(store, tokens_file) == tokens


async def test_a_token_that_stopped_working_is_replaced(store: Store, tmp_path: Path) -> None:
    tokens_file = tmp_path / "demo-team.json"
    first = await ensure_demo_team(store, tokens_file)
    await rotate_token(store, DEMO_USER)  # someone rotated it: the saved one is dead
    tokens_file.write_text("not json")  # and the file is damaged too
    again = await ensure_demo_team(store, tokens_file)
    assert again[DEMO_USER] != first[DEMO_USER]
    assert (await authenticate(store, again[DEMO_USER])).handle == DEMO_USER
    assert await authenticate(store, first[DEMO_USER]) is None
