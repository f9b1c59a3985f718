"""Settings (defaults, file, environment, clear errors) and the database commands."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from inbox_tui.cli import main
from inbox_tui.core.database_url import DatabaseURLError, normalize_database_url
from inbox_tui.core.migrate import current_revision, head_revision
from inbox_tui.core.store import Store
from inbox_tui.settings import (
    AISettings,
    Settings,
    SettingsError,
    StatusLineSettings,
    TUISettings,
    config_dir,
    data_dir,
    load_settings,
    secret,
)
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
    from_env = load_settings(
        environ={
            "INBOX_MODEL": "env-model",
            "INBOX_PORT": "9100",
            "INBOX_DB_URL": f"sqlite:///{sqlite_file}",
            "OPENAI_API_KEY": "sk-test",
        }
    )
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


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[ai\nmodel = 1", "not valid TOML"),
        ('colour = "blue"', "colour: unknown setting"),
        ('config_path = "/etc/x.toml"', "config_path: unknown setting"),
        ('[ai]\nmodle = "x"', "ai.modle: unknown setting"),
        ('[server]\nport = "eighty"', "server.port"),
        ("[server]\nport = -1", "server.port"),
        ('[ai]\nbackend = "magic"', "ai.backend: 'magic' is not one of auto, offline, openai"),
        ('[assignment]\nnext_shift_fallback = "perhaps"', "assignment.next_shift_fallback"),
        ("ai = 3", "ai: expected a table"),
        ('[bot]\nescalation_triggers = "refunds"', "bot.escalation_triggers"),
    ],
)
def test_a_broken_file_says_what_is_wrong(toml: str, message: str) -> None:
    path = write_config(toml)
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={})
    assert message in str(caught.value)
    if "TOML" in message:
        assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("INBOX_PORT", "http", "server.port"),
        ("INBOX_AI_TIMEOUT", "soon", "ai.timeout"),
        ("INBOX_AI", "gpt", "ai.backend"),
        ("INBOX_ASSIGNMENT_RULE", "random", "assignment.rule"),
    ],
)
def test_a_bad_environment_value_says_which(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ={variable: value})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/inbox", "only sqlite and postgresql"),
        ("sqlite:///:memory:", "give a file path"),
        ("sqlite://", "give a file path"),
        ("postgresql://postgres@localhost", "name the database"),
        ("not a url at all", "is not valid"),
        ("postgresql+psycopg2cffi://x@y/z", "asyncpg"),
    ],
)
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


@pytest.mark.parametrize(
    "command",
    [["status"], ["agents", "list"], ["agents", "add", "ana"], ["open"], ["agents", "token", "ana"], ["web"]],
)
def test_a_new_install_is_not_created_by_commands_that_do_not_migrate(command: list[str]) -> None:
    result = CliRunner().invoke(main, command, env={})
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        f"Error: no database at {data_dir() / 'inbox.db'} yet: run `inbox-tui db upgrade` "
        "(or start `inbox-tui serve`, which does it)"
    ]
    assert not data_dir().exists()
    assert CliRunner().invoke(main, ["db", "current"]).output.startswith("(no database at ")
    assert not data_dir().exists()


def test_after_db_upgrade_the_commands_work_and_an_empty_team_is_said() -> None:
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    assert _revision(Settings().database_url) == head_revision()
    status = CliRunner().invoke(main, ["status"])
    assert status.exit_code == 0, status.output
    assert "Conversations:" in status.output and "offline" in status.output
    listing = CliRunner().invoke(main, ["agents", "list"])
    assert listing.exit_code == 0
    assert "no teammates yet" in listing.output


def _set_revision(database_url: str, revision: str | None) -> None:
    async def write() -> None:
        store = Store(database_url)
        try:
            async with store.write_engine.begin() as conn:
                if revision is None:
                    await conn.execute(text("DELETE FROM alembic_version"))
                else:
                    await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        finally:
            await store.close()

    asyncio.run(write())


@pytest.mark.parametrize(
    ("revision", "message"),
    [
        ("0001", "the database schema (0001) is behind this program"),
        ("9999_from_the_future", "the database schema (9999_from_the_future) is newer than this program knows"),
        (None, "the database has no tables yet"),
    ],
)
def test_a_database_at_another_schema_is_refused_without_migrating(revision: str | None, message: str) -> None:
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    url = Settings().database_url
    _set_revision(url, revision)
    for command in (["status"], ["agents", "list"], ["open"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code != 0
        assert message in result.output, result.output
        assert "Traceback" not in result.output
    assert _revision(url) == revision  # nothing migrated it


def _files_under(root: Path) -> set[Path]:
    return set(root.rglob("*")) if root.exists() else set()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@localhost/inbox",
        "sqlite:///:memory:",
        "postgresql://postgres@127.0.0.1:1/test",  # nothing listens on port 1
        pytest.param("postgresql://nobody@127.0.0.1:5432/test", marks=requires_postgres, id="unknown-role"),
        pytest.param(
            "postgresql://postgres@127.0.0.1:5432/no_such_database_here", marks=requires_postgres, id="missing-database"
        ),
    ],
)
def test_status_with_a_broken_database_url_fails_clearly_and_changes_nothing(tmp_path: Path, url: str) -> None:
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
    assert lines == ["Error: configuration: server.port: 'x' is not a valid int"]
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
        "Error: database error: file is not a database"
    ]
    assert not_a_database.read_bytes() == b"shopping list: milk, eggs\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


# --- the settings model as documentation -------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_configuration_rows() -> set[tuple[str, str]]:
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: set[tuple[str, str]] = set()
    for line in section.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1] and not set(cells[1]) <= {"-"} and cells[1] != "config.toml":
            rows.add((cells[0], cells[1]))
    return rows


def test_the_readme_configuration_table_is_the_model() -> None:
    from inbox_tui.settings import setting_fields

    model = {
        (item.environment_variable or "", f"[{item.section}] {item.name}" if item.section else item.name)
        for item in setting_fields()
    }
    assert _readme_configuration_rows() == model
    assert all(item.description for item in setting_fields())  # every setting is described


def test_config_init_writes_a_described_file_that_loads_as_the_defaults() -> None:
    result = CliRunner().invoke(main, ["config", "init"])
    assert result.exit_code == 0, result.output
    path = config_dir() / "config.toml"
    text = path.read_text(encoding="utf-8")
    assert "# key for an OpenAI-compatible endpoint (environment: OPENAI_API_KEY)" in text
    assert '# model = "gpt-4o-mini"' in text
    assert path.stat().st_mode & 0o077 == 0
    assert load_settings(environ={}) == Settings(config_path=path)
    # Every commented setting, uncommented, is a valid file.
    uncommented = "\n".join(line[2:] if line.startswith("# ") and " = " in line else line for line in text.splitlines())
    path.write_text(uncommented, encoding="utf-8")
    assert load_settings(environ={}).ai.model == "gpt-4o-mini"
    again = CliRunner().invoke(main, ["config", "init"])
    assert again.exit_code != 0 and "exists already" in again.output


def test_config_show_masks_secrets_and_config_path_says_where() -> None:
    write_config('[tui]\ntoken = "file-token-secret"\n')
    shown = CliRunner().invoke(
        main, ["config", "show"], env={"OPENAI_API_KEY": "sk-very-secret", "INBOX_MODEL": "env-model"}
    )
    assert shown.exit_code == 0, shown.output
    assert "sk-very-secret" not in shown.output and "file-token-secret" not in shown.output
    assert 'api_key = "********"' in shown.output and 'token = "********"' in shown.output
    assert 'model = "env-model"' in shown.output
    assert "# overridden by the environment: OPENAI_API_KEY, INBOX_MODEL" in shown.output
    where = CliRunner().invoke(main, ["config", "path"])
    assert f"config file:  {config_dir() / 'config.toml'} (in use)" in where.output
    assert str(data_dir()) in where.output


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = load_settings(environ={"OPENAI_API_KEY": "sk-very-secret", "INBOX_TOKEN": "tok-secret"})
    assert "sk-very-secret" not in repr(settings) and "tok-secret" not in repr(settings)
    assert secret(settings.tui.token) == "tok-secret"


def test_settings_built_in_code_run_the_same_checks_as_a_file() -> None:
    """Tests and the demo build settings directly: the handle, the secrets and the
    database URL are normalized as when they are read, a changed copy is checked again,
    and a bad status line is refused."""
    settings = Settings(
        database_url="sqlite:////tmp/x.db",
        ai=AISettings(api_key="sk-in-code"),  # plain text, as a test may pass it
        tui=TUISettings(agent=" @Ana ", token="tok-in-code"),
    )
    assert settings.database_url == "sqlite+aiosqlite:////tmp/x.db"
    assert settings.tui.agent == "ana" and secret(settings.tui.token) == "tok-in-code"
    assert "sk-in-code" not in repr(settings) and "tok-in-code" not in repr(settings)
    assert settings.replace(database_url="postgres://u@h/db").database_url == "postgresql+asyncpg://u@h/db"
    assert settings.tui.replace(agent="@Bob").agent == "bob"
    with pytest.raises(ValueError, match="unknown placeholder"):
        StatusLineSettings(joined={"en": "{teammate} is here."})
    with pytest.raises(DatabaseURLError, match="only sqlite and postgresql"):
        settings.replace(database_url="mysql://root@localhost/inbox")


START_IMPORTS = """
import sys
from inbox_tui.settings import load_settings
from inbox_tui.tui.app import InboxApp

load_settings()
print(" ".join(sorted(sys.modules)))
"""


def test_the_inbox_starts_without_pydantic(tmp_path: Path) -> None:
    """The settings are msgspec structs: the inbox's first screen does not pay for
    pydantic's import and model building (about a tenth of a second). Only the model
    client, loaded when a model is configured, brings pydantic in."""
    env = {**os.environ, "INBOX_CONFIG_DIR": str(tmp_path / "config"), "INBOX_DATA_DIR": str(tmp_path / "data")}
    completed = subprocess.run(
        [sys.executable, "-c", START_IMPORTS], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    imported = completed.stdout.split()
    assert "inbox_tui.tui.app" in imported  # the inbox was imported
    assert not [name for name in imported if name.split(".")[0] in ("pydantic", "pydantic_core", "openai")]


def test_the_inbox_starts_without_the_websocket_library_or_the_ai(tmp_path: Path) -> None:
    """The bridge connects and the AI loads after the first paint: the first screen
    imports neither the websocket library nor the AI's modules (a few milliseconds)."""
    env = {**os.environ, "INBOX_CONFIG_DIR": str(tmp_path / "config"), "INBOX_DATA_DIR": str(tmp_path / "data")}
    completed = subprocess.run(
        [sys.executable, "-c", START_IMPORTS], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    imported = completed.stdout.split()
    assert "inbox_tui.tui.screens.inbox" in imported and "inbox_tui.tui.bridge_status" in imported
    assert not [name for name in imported if name.split(".")[0] == "websockets" or name.startswith("inbox_tui.ai")]


def test_the_inbox_agent_comes_from_the_settings_unless_open_names_one() -> None:
    from inbox_tui.cli import inbox_agent

    from_env = load_settings(environ={"INBOX_AGENT": "@Ana"})
    assert from_env.tui.agent == "ana"
    assert inbox_agent(from_env, None) == "ana"
    assert inbox_agent(from_env, "@Bob") == "bob"
    write_config('[tui]\nagent = "carla"\n')
    assert inbox_agent(load_settings(environ={}), None) == "carla"


def test_db_upgrade_refuses_a_database_a_newer_program_upgraded() -> None:
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    url = Settings().database_url
    _set_revision(url, "9999_from_the_future")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0
    assert [line for line in result.output.splitlines() if line.strip()] == [
        f"Error: the database schema (9999_from_the_future) is newer than this program knows ({head_revision()}): "
        "it was upgraded by a newer inbox-tui; upgrade this one to match"
    ]
    assert _revision(url) == "9999_from_the_future"


OPEN_CHECK = """
import asyncio, sys
from inbox_tui.cli import check_database
from inbox_tui.core.migrate import ensure_schema
from inbox_tui.core.store import Store
from inbox_tui.settings import load_settings

settings = load_settings()
store = Store(settings.database_url)
asyncio.run(ensure_schema(store))
asyncio.run(store.close())
before = set(sys.modules)
check_database(settings)
print(" ".join(sorted(set(sys.modules) - before)))
"""


def test_opening_the_inbox_checks_the_database_without_building_the_ai(tmp_path: Path) -> None:
    """``inbox-tui open`` checks the schema before its first screen; it writes nothing,
    so the AI backend and its language detector are left for later (they cost the start
    about 25 ms)."""
    env = {
        **os.environ,
        "INBOX_DB_URL": f"sqlite:///{tmp_path / 'inbox.db'}",
        "INBOX_CONFIG_DIR": str(tmp_path / "config"),
        "INBOX_AI": "offline",
    }
    completed = subprocess.run(
        [sys.executable, "-c", OPEN_CHECK], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    imported = completed.stdout.split()
    assert "inbox_tui.runtime" in imported  # the check ran: it opened a runtime
    assert not [name for name in imported if name.startswith(("inbox_tui.ai.offline", "inbox_tui.ai.language"))]
