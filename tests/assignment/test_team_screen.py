"""The Team screen, driven through the real inbox app with Pilot on a real SQLite store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

from inbox_tui.core.agents import add_agent
from inbox_tui.core.assignment import team_members
from inbox_tui.core.models import Availability
from inbox_tui.core.shifts import describe_shifts, parse_shift_specs
from inbox_tui.core.team import get_shifts, presence_connected, set_shifts
from inbox_tui.runtime import open_runtime
from inbox_tui.settings import AssignmentSettings, Settings, TUISettings
from inbox_tui.tui.app import InboxApp
from inbox_tui.tui.screens.team import TeamScreen
from tests.assignment.support import assignee_of, escalated_ticket
from tests.conftest import FixedClock, sqlite_url


@pytest.fixture
async def app_and_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FixedClock()
    settings = Settings(database_url=sqlite_url(tmp_path))
    runtime = await open_runtime(settings, clock=clock)
    store = runtime.store
    ana, token = await add_agent(store, "ana", "Ana Lima", capacity=2, timezone="Europe/Lisbon")
    await add_agent(store, "bob", "[b]Bob[/b]", capacity=3)
    await set_shifts(store, "bob", parse_shift_specs(["mon-fri 09:00-17:00"]))
    settings = settings.replace(tui=TUISettings(token=token))
    app = InboxApp(settings, runtime=runtime, clock=clock, connect_bridge=False, cursor_blink=False)
    try:
        yield app, store, ana
    finally:
        await runtime.close()


async def settle(app: InboxApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait for the Team screen's own workers (the app's refresher runs for ever)."""
    for _ in range(3):
        await pilot.pause()
        mine = [w for w in app.workers if w.group.startswith("team")]
        if mine:  # an empty list would mean "every worker"
            await app.workers.wait_for_complete(mine)
    await pilot.pause()


async def open_team(app: InboxApp, pilot) -> TeamScreen:  # type: ignore[no-untyped-def]
    await asyncio.wait_for(app.started_up.wait(), 10)
    await pilot.press("T")
    await settle(app, pilot)
    assert isinstance(app.screen, TeamScreen)
    return app.screen


async def test_team_screen_lists_teammates_literally(app_and_store) -> None:  # type: ignore[no-untyped-def]
    app, _store, _ana = app_and_store
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_team(app, pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(2)]
        assert rows[0][:3] == ["@ana", "Ana Lima", "available"]
        assert rows[0][4:] == ["0/2", "on shift", "Europe/Lisbon", "always (no shifts)"]
        # Saturday 09:30 UTC: Bob works weekdays. His name is shown, never parsed as markup.
        assert rows[1][1] == "[b]Bob[/b]" and rows[1][5] == "off shift"
        assert rows[1][7] == "mon-fri 09:00-17:00"
        assert screen.query_one("#capacity", Input).value == "2"
        assert screen.query_one("#shifts", Input).value == ""
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TeamScreen)


async def test_editing_my_capacity_shifts_and_availability(app_and_store) -> None:  # type: ignore[no-untyped-def]
    app, store, ana = app_and_store
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_team(app, pilot)
        screen.query_one("#capacity", Input).value = "7"
        screen.query_one("#shifts", Input).value = "mon-fri 09:00-17:00; sat 22:00-06:00"
        screen.query_one("#availability", Select).value = Availability.AWAY
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert describe_shifts(await get_shifts(store, "ana")) == "mon-fri 09:00-17:00, sat 22:00-06:00"
        async with store.read() as session:
            mine = next(
                m
                for m in await team_members(session, store.now(), app.settings.assignment)
                if m.status.agent.id == ana.id
            )
        assert (mine.status.capacity, mine.status.availability) == (7, Availability.AWAY)
        assert str(screen.query_one(DataTable).get_row_at(0)[4]) == "0/7"
        assert screen.query_one("#shifts", Input).value == "mon-fri 09:00-17:00; sat 22:00-06:00"


async def test_bad_input_is_explained_and_changes_nothing(app_and_store) -> None:  # type: ignore[no-untyped-def]
    app, store, _ana = app_and_store
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_team(app, pilot)
        screen.query_one("#capacity", Input).value = "9"
        screen.query_one("#shifts", Input).value = "funday 09:00-17:00"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        message = str(screen.query_one("#team-message", Static).render())
        assert "'funday' is not a weekday" in message
        async with store.read() as session:
            members = await team_members(session, store.now(), app.settings.assignment)
        assert members[0].status.capacity == 2 and members[0].shifts == ()


async def test_saving_available_hands_out_the_backlog(app_and_store) -> None:  # type: ignore[no-untyped-def]
    app, store, ana = app_and_store
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_team(app, pilot)
        screen.query_one("#availability", Select).value = Availability.AWAY
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await presence_connected(store, ana.id, "tui")  # online, but away
        ticket = await escalated_ticket(store, AssignmentSettings(next_shift_fallback=False))
        assert ticket.assignee is None
        screen.query_one("#availability", Select).value = Availability.AVAILABLE
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert await assignee_of(store, ticket.ticket_id) == ana.id


async def test_team_from_the_command_palette(app_and_store) -> None:  # type: ignore[no-untyped-def]
    app, _store, _ana = app_and_store
    async with app.run_test(size=(140, 40)) as pilot:
        await asyncio.wait_for(app.started_up.wait(), 10)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Team: availability")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TeamScreen)


async def test_my_settings_labels_sit_on_their_fields(app_and_store) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Label

    app, _store, _ana = app_and_store
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_team(app, pilot)
        labels = {str(label.render()).strip(): label for label in screen.query(Label)}
        for text, field in (("Availability", "#availability"), ("Capacity", "#capacity"), ("Shifts", "#shifts")):
            # The text itself, not only the box: padding above it would put it a row lower.
            assert labels[text].content_region.y == screen.query_one(field).content_region.y, text
