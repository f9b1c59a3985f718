"""``inbox-tui serve`` refuses what it cannot use with one clear line, and changes nothing."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from inbox_tui.cli import main


def test_unreachable_database_is_waited_for_then_one_clear_error(tmp_path, monkeypatch) -> None:
    config = tmp_path / "wait.toml"
    config.write_text("[server]\ndatabase_wait_seconds = 1\n", encoding="utf-8")
    monkeypatch.setenv("INBOX_DB_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    result = CliRunner().invoke(main, ["--config", str(config), "serve", "--port", "0"])
    assert result.exit_code == 1
    shown = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    assert f"inbox-tui serve: waiting for the database {shown}" in result.output
    assert f"Error: the database {shown} is still not reachable" in result.output
    assert "Traceback" not in result.output


def test_a_taken_port_is_one_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("INBOX_DB_URL", f"sqlite:///{tmp_path / 'inbox.db'}")
    monkeypatch.setenv("INBOX_AI", "offline")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
