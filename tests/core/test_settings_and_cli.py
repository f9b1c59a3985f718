"""Settings (defaults, file, environment, clear errors) and the database commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from inbox_tui.cli import main
from inbox_tui.core.database_url import DatabaseURLError, normalize_database_url
from inbox_tui.core.migrate import current_revision, head_revision
from inbox_tui.core.store import Store
from inbox_tui.settings import Settings, SettingsError, config_dir, data_dir, load_settings, secret
from tests.conftest import create_pg_database, drop_pg_database, requires_postgres


def write_config(text: str) -> Path:
    path = config_dir() / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- settings ---------------------------------------------------------------------------


def test_defaults_need_nothing() -> None:
    settings = load_settings(environ={})
    assert settings.database_url == f"sqlite+aiosqlite:///{data_dir() / 'inbox.db'}"
    assert settings.config_path is None
    assert settings.ai.uses_model is False  # offline without a key or an endpoint
    assert settings.bot.handoff_message == "Let me connect you with a teammate."
    assert not data_dir().exists()  # reading settings writes nothing


def test_file_then_environment(tmp_path: Path) -> None:
    path = write_config(
        'database_url = "postgresql://team@db.example/inbox"\n'
        "[ai]\n"
        'model = "file-model"\n'
        "summary_timeout = 7.5\n"
        'base_url = "http://127.0.0.1:11434/v1"\n'
        "[server]\n"
        "port = 9000\n"
        "[bot.handoff_translations]\n"
        'es = "Un momento, te paso con el equipo."\n'
    )
    from_file = load_settings(environ={})
    assert from_file.config_path == path
    assert from_file.database_url == "postgresql+asyncpg://team@db.example/inbox"
    assert from_file.ai.model == "file-model" and from_file.ai.summary_timeout == 7.5
    assert from_file.ai.uses_model
    assert from_file.server.port == 9000
    assert from_file.bot.handoff_translations == {"es": "Un momento, te paso con el equipo."}

    sqlite_file = tmp_path / "env.db"
    from_env = load_settings(environ={
        "INBOX_MODEL": "env-model", "INBOX_PORT": "9100", "INBOX_DB_URL": f"sqlite:///{sqlite_file}",
        "OPENAI_API_KEY": "sk-test",
    })
    assert from_env.ai.model == "env-model"  # the environment wins over the file
    assert from_env.server.port == 9100
    assert from_env.database_url == f"sqlite+aiosqlite:///{sqlite_file}"
    assert from_env.ai.summary_timeout == 7.5  # what the environment does not set, the file does
    assert secret(from_env.ai.api_key) == "sk-test"


def test_an_explicit_config_file(tmp_path: Path) -> None:
    other = tmp_path / "team.toml"
    other.write_text('[assignment]\nrule = "round_robin"\n', encoding="utf-8")
    assert load_settings(environ={"INBOX_CONFIG": str(other)}).assignment.rule == "round_robin"
    assert load_settings(other, environ={}).config_path == other
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})


@pytest.mark.parametrize(("toml", "message"), [
    ("[ai\nmodel = 1", "not valid TOML"),
    ('colour = "blue"', "colour: unknown setting"),
    ('[ai]\nmodle = "x"', "ai.modle: unknown setting"),
    ('[server]\nport = "eighty"', "server.port"),
    ("[server]\nport = -1", "server.port"),
    ('[ai]\nbackend = "magic"', "ai.backend: 'magic' is not one of auto, offline, openai"),
    ('[assignment]\nnext_shift_fallback = "perhaps"', "assignment.next_shift_fallback"),
    ("ai = 3", "ai: expected a table"),
    ('[bot]\nescalation_triggers = "refunds"', "bot.escalation_triggers"),
])
def test_a_broken_file_says_what_is_wrong(toml: str, message: str) -> None:
    path = write_config(toml)
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={})
    assert message in str(caught.value)
    if "TOML" in message:
        assert str(path) in str(caught.value)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("INBOX_PORT", "http", "server.port"),
    ("INBOX_AI_TIMEOUT", "soon", "ai.timeout"),
    ("INBOX_AI", "gpt", "ai.backend"),
    ("INBOX_ASSIGNMENT_RULE", "random", "assignment.rule"),
])
def test_a_bad_environment_value_says_which(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ={variable: value})


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://root@localhost/inbox", "only sqlite and postgresql"),
    ("sqlite:///:memory:", "give a file path"),
    ("sqlite://", "give a file path"),
    ("postgresql://postgres@localhost", "name the database"),
    ("not a url at all", "is not valid"),
    ("postgresql+psycopg2cffi://x@y/z", "asyncpg"),
])
def test_a_bad_database_url_says_why(url: str, message: str) -> None:
    with pytest.raises(DatabaseURLError, match=message):
        normalize_database_url(url)
    with pytest.raises(DatabaseURLError, match=message):
        load_settings(environ={"INBOX_DB_URL": url})


def test_database_urls_get_their_async_driver() -> None:
    assert normalize_database_url("postgres://u:p@h:5433/db") == "postgresql+asyncpg://u:p@h:5433/db"
    assert normalize_database_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalize_database_url("sqlite:////var/x.db") == "sqlite+aiosqlite:////var/x.db"


# --- the command line -----------------------------------------------------------------


def _tables(database_url: str) -> set[str]:
    async def read() -> set[str]:
        store = Store(database_url)
        try:
            async with store.read_engine.connect() as conn:
                return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await store.close()

    return asyncio.run(read())


def _revision(database_url: str) -> str | None:
    async def read() -> str | None:
        store = Store(database_url)
        try:
            return await current_revision(store)
        finally:
            await store.close()

    return asyncio.run(read())


def test_db_upgrade_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "fresh.db"
    url = f"sqlite:///{database}"
    runner = CliRunner()
    result = runner.invoke(main, ["db", "upgrade"], env={"INBOX_DB_URL": url})
    assert result.exit_code == 0, result.output
    assert f"database at revision {head_revision()}" in result.output
    assert database.exists()
    assert {"agents", "conversations", "messages", "tickets", "events", "mentions"} <= _tables(url)
    # Running it again is harmless.
    again = runner.invoke(main, ["db", "upgrade"], env={"INBOX_DB_URL": url})
    assert again.exit_code == 0 and head_revision() in again.output


@requires_postgres
def test_db_upgrade_on_postgresql() -> None:
    name, url = asyncio.run(create_pg_database())
    try:
        assert _revision(url) is None
        result = CliRunner().invoke(main, ["db", "upgrade"], env={"INBOX_DB_URL": url})
        assert result.exit_code == 0, result.output
        assert _revision(url) == head_revision()
        assert "tickets" in _tables(url)
        current = CliRunner().invoke(main, ["db", "current"], env={"INBOX_DB_URL": url})
        assert current.output.strip() == head_revision()
    finally:
        asyncio.run(drop_pg_database(name))


def test_status_on_the_default_database_creates_and_migrates_it() -> None:
    result = CliRunner().invoke(main, ["status"], env={})
    assert result.exit_code == 0, result.output
    assert "Conversations:" in result.output and "offline" in result.output
    assert (data_dir() / "inbox.db").exists()
    assert _revision(Settings().database_url) == head_revision()


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")} if root.exists() else set()


@pytest.mark.parametrize("url", [
    "mysql://root@localhost/inbox",
    "sqlite:///:memory:",
    "postgresql://postgres@127.0.0.1:1/test",  # nothing listens on port 1
    pytest.param("postgresql://nobody@127.0.0.1:5432/test", marks=requires_postgres, id="unknown-role"),
    pytest.param("postgresql://postgres@127.0.0.1:5432/no_such_database_here", marks=requires_postgres,
                 id="missing-database"),
])
def test_status_with_a_broken_database_url_fails_clearly_and_changes_nothing(
    tmp_path: Path, url: str
) -> None:
    before = _files_under(tmp_path)
    result = CliRunner().invoke(main, ["status"], env={"INBOX_DB_URL": url})
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    assert _files_under(tmp_path) == before


def test_a_broken_config_file_fails_clearly(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[server]\nport = 'x'\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(broken), "status"])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [f"Error: configuration: server.port: 'x' is not a valid int"]
    assert not data_dir().exists()


@pytest.mark.parametrize("url", ["sqlite+nodriver:///x.db", "postgresql+nodriver://u@h/db"])
def test_an_unknown_driver_is_refused_clearly(url: str) -> None:
    with pytest.raises(DatabaseURLError, match="needs the"):
        normalize_database_url(url)


def test_status_on_a_file_that_is_not_a_database_fails_clearly_and_leaves_it_alone(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_bytes(b"shopping list: milk, eggs\n")
    result = CliRunner().invoke(main, ["status"], env={"INBOX_DB_URL": f"sqlite:///{not_a_database}"})
    assert result.exit_code != 0
    assert [line for line in result.output.splitlines() if line.strip()] == [
        "Error: database error: file is not a database"]
    assert not_a_database.read_bytes() == b"shopping list: milk, eggs\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]
