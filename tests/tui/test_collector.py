"""The garbage collector paused while the program starts (``inbox_tui.collector``) is on
again once the program is up: a process left without it would only grow."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from inbox_tui import collector
from inbox_tui.cli import main
from inbox_tui.settings import AISettings, Settings
from tests.tui.conftest import Inbox, wait_until


@pytest.fixture
def paused() -> Iterator[None]:
    """The collector paused as ``inbox-tui`` pauses it; always on again after the test."""
    collector.pause()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("paused")
async def test_the_inbox_turns_the_collector_on_after_its_first_screen(inbox: Inbox) -> None:
    app = inbox.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.ready.wait()
        await app.started_up.wait()
        await wait_until(pilot, gc.isenabled, what="the collector on again")


@pytest.mark.usefixtures("paused")
async def test_an_inbox_that_cannot_open_its_database_turns_it_on_too(tmp_path: Path) -> None:
    from inbox_tui.tui.app import InboxApp

    (tmp_path / "not-a-folder").write_text("a file where the database's folder should be")
    broken = f"sqlite+aiosqlite:///{tmp_path / 'not-a-folder' / 'inbox.db'}"
    app = InboxApp(Settings(database_url=broken, ai=AISettings(backend="offline")), cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, gc.isenabled, what="the collector on again")


@pytest.mark.usefixtures("paused")
def test_every_other_command_turns_it_on_when_it_begins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INBOX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["replies", "--help"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled()
