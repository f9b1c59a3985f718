"""`inbox-tui agents ...`: add with shifts, edit availability, shift management, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from inbox_tui.cli import main


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("INBOX_DB_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    created = runner.invoke(main, ["db", "upgrade"])
    assert created.exit_code == 0, created.output

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(main, list(args))
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return invoke


def test_add_with_shifts_then_list(run) -> None:  # type: ignore[no-untyped-def]
    out = run(
        "agents",
        "add",
        "ana",
        "--name",
        "Ana",
        "--timezone",
        "Europe/Lisbon",
        "--shift",
        "mon-fri 09:00-17:00",
        "--shift",
        "sat 22:00-06:00",
    )
    assert "added Ana (@ana)" in out and "token: " in out
    listing = run("agents", "list")
    assert "@ana" in listing and "Europe/Lisbon" in listing
    assert "mon-fri 09:00-17:00, sat 22:00-06:00" in listing
    run("agents", "add", "bob")
    assert "always (no shifts)" in run("agents", "list")


def test_shift_management(run) -> None:  # type: ignore[no-untyped-def]
    run("agents", "add", "ana", "--timezone", "Europe/Lisbon")
    assert run("agents", "shifts", "ana") == "ana (@ana) (Europe/Lisbon): always (no shifts)\n"
    out = run("agents", "shifts", "ana", "--set", "mon-fri 09:00-17:00")
    assert out.endswith("mon-fri 09:00-17:00\n")
    out = run("agents", "shifts", "ana", "--add", "sun 18:00-24:00")
    assert out.endswith("mon-fri 09:00-17:00, sun 18:00-24:00\n")
    assert run("agents", "shifts", "ana", "--clear").endswith("always (no shifts)\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "funday 09:00-17:00"), "'funday' is not a weekday"),
        (("--set", "mon 09:00-25:00"), "not a time of day"),
        (("--set", "mon 09:00-17:00", "--set", "mon 12:00-13:00"), "shifts overlap"),
        (("--set", "mon 09:00-17:00", "--clear"), "use one of --set, --add or --clear"),
    ],
)
def test_bad_shifts_are_refused_and_change_nothing(run, args, message) -> None:  # type: ignore[no-untyped-def]
    run("agents", "add", "ana", "--shift", "tue 09:00-17:00")
    assert message in run("agents", "shifts", "ana", *args, ok=False)
    assert run("agents", "shifts", "ana").endswith("tue 09:00-17:00\n")


def test_adding_an_overlapping_shift_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    run("agents", "add", "ana", "--shift", "mon 09:00-17:00")
    assert "shifts overlap" in run("agents", "shifts", "ana", "--add", "mon 16:00-18:00", ok=False)


def test_edit_availability_capacity_and_errors(run) -> None:  # type: ignore[no-untyped-def]
    run("agents", "add", "ana", "--capacity", "2")
    run("agents", "edit", "ana", "--availability", "away", "--capacity", "7")
    listing = run("agents", "list")
    assert "away" in listing and "0/7" in listing
    assert "nothing to change" in run("agents", "edit", "ana", ok=False)
    assert "unknown timezone" in run("agents", "edit", "ana", "--timezone", "Mars/Base", ok=False)
    assert "no teammate @zed" in run("agents", "shifts", "zed", ok=False)
    assert "Invalid value for '--availability'" in run("agents", "edit", "ana", "--availability", "busy", ok=False)
