"""Typed settings: defaults that need nothing, a TOML file, then environment variables.

Precedence (lowest first): built-in defaults, ``config.toml`` in the user's config
directory (or the file named by ``INBOX_CONFIG`` / ``--config``), environment variables.
The model below is the one description of every setting: its field descriptions are what
``inbox-tui config init`` writes and what the README's configuration table is checked
against. A broken file or value raises :class:`SettingsError` with a one-line message a
user can act on.

Building :class:`Settings` in code (tests, the demo) takes exactly what is passed;
:func:`load_settings` adds the file and the environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo

from inbox_tui.core.database_url import DatabaseURLError, normalize_database_url

APP_NAME = "inbox-tui"

DEFAULT_HANDOFF_MESSAGE = "Let me connect you with a teammate."
DEFAULT_HANDOFF_TRANSLATIONS: dict[str, str] = {
    "en": DEFAULT_HANDOFF_MESSAGE,
    "es": "Te pongo en contacto con un compañero del equipo.",
    "de": "Ich verbinde dich mit einem Teammitglied.",
    "fr": "Je vous mets en relation avec un membre de l'équipe.",
    "pt": "Vou ligar-te a um colega da equipa.",
    "it": "Ti metto in contatto con un collega del team.",
}
DEFAULT_ESCALATION_TRIGGERS = [
    "the customer explicitly asks for a human, a person, an agent or a teammate",
    "a refund dispute or a chargeback",
    "anything outside the knowledge you were given",
]


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message says which and why."""


def config_dir() -> Path:
    return Path(os.environ.get("INBOX_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(os.environ.get("INBOX_DATA_DIR") or platformdirs.user_data_dir(APP_NAME))


def log_dir() -> Path:
    """``INBOX_LOG_DIR``; else ``log/`` in a data directory moved by ``INBOX_DATA_DIR``;
    else the user's log directory."""
    if os.environ.get("INBOX_LOG_DIR"):
        return Path(os.environ["INBOX_LOG_DIR"])
    if os.environ.get("INBOX_DATA_DIR"):
        return Path(os.environ["INBOX_DATA_DIR"]) / "log"
    return Path(platformdirs.user_log_dir(APP_NAME))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def secret(value: SecretStr | None) -> str | None:
    """The text of a secret setting, for the one place that sends it."""
    return value.get_secret_value() if value is not None else None


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{data_dir() / 'inbox.db'}"


def _env(name: str) -> dict[str, Any]:
    """Field metadata: the environment variable that sets this field."""
    return {"env": name}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class AISettings(_Section):
    backend: Literal["auto", "offline", "openai"] = Field(
        "auto",
        description="`auto` (a model if a key or base URL is set), `offline`, `openai`",
        json_schema_extra=_env("INBOX_AI"),
    )
    api_key: SecretStr | None = Field(
        None, description="key for an OpenAI-compatible endpoint", json_schema_extra=_env("OPENAI_API_KEY")
    )
    base_url: str | None = Field(
        None,
        description="e.g. `http://localhost:11434/v1` (Ollama), vLLM, llama.cpp",
        json_schema_extra=_env("OPENAI_BASE_URL"),
    )
    model: str = Field("gpt-4o-mini", description="model name", json_schema_extra=_env("INBOX_MODEL"))
    timeout: float = Field(
        20.0,
        ge=0,
        description="seconds before a model call counts as failed",
        json_schema_extra=_env("INBOX_AI_TIMEOUT"),
    )
    summary_timeout: float = Field(
        15.0,
        ge=0,
        description="seconds the model gets for a ticket summary before the local one is written",
        json_schema_extra=_env("INBOX_SUMMARY_TIMEOUT"),
    )
    max_reply_chars: int = Field(
        4000, ge=1, description="the longest bot answer shown to a customer (`max_tokens` is sized from it)"
    )

    @property
    def uses_model(self) -> bool:
        if self.backend == "offline":
            return False
        if self.backend == "openai":
            return True
        return bool(self.api_key or self.base_url)


class BotSettings(_Section):
    instructions: str = Field(
        "You are the support assistant of this company. Answer briefly and only from the "
        "knowledge you were given. Reply in the customer's language.",
        description="the bot's instructions (its system prompt)",
    )
    knowledge_file: str | None = Field(
        None,
        description="what the bot knows: a Markdown file or a folder of them (see below)",
        json_schema_extra=_env("INBOX_KNOWLEDGE_FILE"),
    )
    handoff_message: str = Field(
        DEFAULT_HANDOFF_MESSAGE,
        description="what the customer reads when a person takes over",
        json_schema_extra=_env("INBOX_HANDOFF_MESSAGE"),
    )
    handoff_translations: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_HANDOFF_TRANSLATIONS),
        description="the handoff message by language code (a table)",
    )
    fallback_message: str = Field(
        "I'm not sure about that one. Would you like me to connect you with a teammate?",
        description="what the offline bot says when its knowledge has no answer",
    )
    escalation_triggers: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ESCALATION_TRIGGERS),
        description="when the model hands the conversation to a person",
    )
    extra_human_phrases: list[str] = Field(
        default_factory=list,
        description="your own ways of asking for a person, on top of the built-in ones (offline bot)",
    )
    reply_lease_seconds: float = Field(
        15.0,
        gt=0,
        description="seconds a server node holds an owed bot answer (renewed while it works); "
        "after a crash another node answers it once this ran out",
    )
    owed_reply_max_age_seconds: float = Field(
        300.0,
        gt=0,
        description="an owed bot answer older than this is not answered any more: it escalates to a teammate",
    )


_STATUS_LINE_PLACEHOLDERS = {"queued": set[str](), "joined": {"name"}, "back_at": {"when"}}


class StatusLineSettings(_Section):
    """What the customer is told about who holds their conversation, by language code.
    A line given here replaces the built-in one for that language (en, es, de, fr, pt,
    it are built in); a language with none is translated by the model, else English."""

    queued: dict[str, str] = Field(
        default_factory=dict, description="while the ticket waits in Unassigned, by language code (a table)"
    )
    joined: dict[str, str] = Field(
        default_factory=dict, description="when a teammate joins, `{name}` for who, by language code (a table)"
    )
    back_at: dict[str, str] = Field(
        default_factory=dict,
        description="when the next shift holds the ticket, `{when}` for the time, by language code (a table)",
    )

    @field_validator("queued", "joined", "back_at")
    @classmethod
    def _lines(cls, lines: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        allowed = _STATUS_LINE_PLACEHOLDERS[str(info.field_name)]
        for language, text in lines.items():
            if not language.strip() or not text.strip():
                raise ValueError("a language code and its line must not be empty")
            if not re.fullmatch(r"[A-Za-z]{2,3}", language):
                raise ValueError(f"{language!r}: a language code alone, such as `pt` or `nl`")
            unknown = sorted(set(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", text)) - allowed)
            if unknown:
                usable = ", ".join("{" + name + "}" for name in sorted(allowed)) or "none"
                raise ValueError(f"{language}: unknown placeholder {{{unknown[0]}}} (usable: {usable})")
        return lines


class ServerSettings(_Section):
    host: str = Field(
        "127.0.0.1", description="address the chat server listens on", json_schema_extra=_env("INBOX_HOST")
    )
    port: int = Field(
        8765, ge=0, le=65535, description="port the chat server listens on", json_schema_extra=_env("INBOX_PORT")
    )
    max_frame_bytes: int = Field(16 * 1024, ge=0, description="largest frame a client may send, in bytes")
    max_message_chars: int = Field(4000, ge=0, description="longest customer message, in characters")
    rate_limit_per_second: float = Field(5.0, ge=0, description="customer messages per second, per connection")
    rate_limit_burst: int = Field(20, ge=0, description="customer messages allowed in a burst")
    database_wait_seconds: float = Field(
        300.0, ge=0, description="how long `serve` waits at start for an unreachable PostgreSQL (0: for ever)"
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="web pages (`https://shop.example.com`, `https://*.example.com` or `*`) whose chat widget "
        "may open `/chat`; empty: the server's own origin and loopback pages",
    )
    new_conversations_per_minute: float = Field(
        30.0, ge=0, description="new conversations per client address and minute (0: no limit)"
    )
    new_conversations_burst: int = Field(10, ge=0, description="new conversations a client address may open at once")
    new_conversations_limit_loopback: bool = Field(
        False, description="limit loopback addresses too (a reverse proxy on this host makes every customer loopback)"
    )


class AssignmentSettings(_Section):
    rule: Literal["least_loaded", "round_robin"] = Field(
        "least_loaded", description="`least_loaded` or `round_robin`", json_schema_extra=_env("INBOX_ASSIGNMENT_RULE")
    )
    next_shift_fallback: bool = Field(
        True, description="with nobody available, give the ticket to the teammate whose shift starts next"
    )
    presence_timeout: float = Field(
        60.0, ge=0, description="seconds without a heartbeat before a teammate counts as offline"
    )


class AlertSettings(_Section):
    """How the inbox gets a teammate's attention (see README, "Staying on top of the queue")."""

    bell: bool = Field(True, description="ring the terminal bell with every alert")
    desktop: bool = Field(
        True, description="a desktop notification with every alert (OSC 9 and OSC 777; through tmux too)"
    )
    window_title: bool = Field(True, description="show the unread count in the terminal window title")
    interval_seconds: float = Field(60.0, ge=0, description="one ticket alerts at most once in this many seconds")
    wait_threshold_seconds: float = Field(
        300.0, gt=0, description="alert when a customer on your ticket has waited longer than this"
    )


class TUISettings(_Section):
    server_url: str | None = Field(
        None,
        description="the chat server an inbox connects to (default `ws://127.0.0.1:8765`)",
        json_schema_extra=_env("INBOX_SERVER_URL"),
    )
    agent: str | None = Field(
        None,
        description="your handle: the inbox checks that the token is this teammate's",
        json_schema_extra=_env("INBOX_AGENT"),
    )
    token: SecretStr | None = Field(
        None,
        description="the teammate's token (`inbox-tui agents add` / `agents token`)",
        json_schema_extra=_env("INBOX_TOKEN"),
    )
    theme: str = Field(
        "inbox-dark",
        description="`inbox-dark`, `inbox-light`, `inbox-high-contrast`, or your own",
        json_schema_extra=_env("INBOX_THEME"),
    )
    keymap: dict[str, str] = Field(default_factory=dict, description="key bindings by action (a table)")
    idle_minutes: int = Field(
        30,
        ge=0,
        description="a conversation idle this long leaves the Conversations view (search still finds it; 0: never)",
    )

    @field_validator("agent")
    @classmethod
    def _handle(cls, value: str | None) -> str | None:
        return value.strip().lstrip("@").lower() or None if value is not None else None


class WebSettings(_Section):
    """`inbox-tui web`: browser sign-in."""

    public_url: str | None = Field(
        None,
        description="the address browsers use for `inbox-tui web` (sign-in links point there)",
        json_schema_extra=_env("INBOX_WEB_PUBLIC_URL"),
    )
    session_idle_minutes: float = Field(
        480.0,
        gt=0,
        description="a browser session ends after this long without use",
        json_schema_extra=_env("INBOX_WEB_SESSION_IDLE_MINUTES"),
    )
    sign_in_link_minutes: float = Field(15.0, gt=0, description="how long a one-time sign-in link stays valid")
    sign_in_attempts: int = Field(5, ge=1, description="failed sign-ins allowed per address within the window")
    sign_in_window_seconds: float = Field(300.0, gt=0, description="the window for failed sign-ins, in seconds")


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    database_url: str = Field(
        default_factory=default_database_url,
        description="`sqlite:///path/inbox.db` or `postgresql://user@host/db`",
        json_schema_extra=_env("INBOX_DB_URL"),
    )
    summary_lease_seconds: float = Field(
        60.0, ge=0, description="seconds a summary worker holds a ticket before another may take it over"
    )
    ai: AISettings = Field(default_factory=AISettings, description="the model")
    bot: BotSettings = Field(default_factory=BotSettings, description="the chatbot")
    status_lines: StatusLineSettings = Field(
        default_factory=StatusLineSettings, description="what the customer is told about who holds their conversation"
    )
    server: ServerSettings = Field(default_factory=ServerSettings, description="the chat server")
    assignment: AssignmentSettings = Field(default_factory=AssignmentSettings, description="who gets a ticket")
    tui: TUISettings = Field(default_factory=TUISettings, description="the inbox")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="alerts in the inbox")
    web: WebSettings = Field(default_factory=WebSettings, description="the inbox in a browser")
    config_path: Path | None = Field(None, exclude=True, description="the file these settings came from")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)

    @property
    def bridge_base_url(self) -> str:
        return self.tui.server_url or f"ws://{self.server.host}:{self.server.port}"


SECTIONS: dict[str, type[_Section]] = {
    name: info.annotation
    for name, info in Settings.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, _Section)
}


def setting_fields() -> list[tuple[str | None, str, FieldInfo]]:
    """Every setting as (section or None, name, field), in the model's order."""
    found: list[tuple[str | None, str, FieldInfo]] = []
    for name, info in Settings.model_fields.items():
        if name in SECTIONS or name == "config_path":
            continue
        found.append((None, name, info))
    for section, model in SECTIONS.items():
        found.extend((section, name, info) for name, info in model.model_fields.items())
    return found


def environment_variable(info: FieldInfo) -> str | None:
    extra = info.json_schema_extra
    return str(extra["env"]) if isinstance(extra, dict) and "env" in extra else None


def environment_variables() -> dict[str, tuple[str | None, str]]:
    """Environment variable → (section or None, field name)."""
    return {
        variable: (section, name)
        for section, name, info in setting_fields()
        if (variable := environment_variable(info)) is not None
    }


def _environment_values(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """The environment variables named in the model (``OPENAI_API_KEY`` sets ``ai.api_key``),
    as settings values, and which variable set each one (for error messages)."""
    values: dict[str, Any] = {}
    used: dict[tuple[str, ...], str] = {}
    for variable, (section, name) in environment_variables().items():
        value = environ.get(variable)
        if not value:
            continue
        if section is None:
            values[name] = value
            used[(name,)] = variable
        else:
            values.setdefault(section, {})[name] = value
            used[(section, name)] = variable
    return values, used


def _overlay(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` on top, section by section (an environment variable for
    ``ai.model`` replaces that key of the file's ``[ai]`` table, not the table)."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise SettingsError(f"{path}: cannot read it: {error.strerror or error}") from None


_TYPE_NAMES = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "string": "str",
    "str": "str",
    "list": "list",
    "dict": "table",
}


def _one_line(error: ValidationError, environment: Mapping[tuple[str, ...], str]) -> str:
    """The first problem, as ``section.key: what is wrong`` (with the variable that set it)."""
    first = error.errors(include_url=False)[0]
    loc = tuple(str(part) for part in first["loc"])
    # A problem inside a list or a table names the setting, not the element.
    where_parts = loc[:2] if loc and loc[0] in SECTIONS else loc[:1]
    where = ".".join(where_parts)
    kind, value, message = first["type"], first.get("input"), first["msg"]
    if kind == "extra_forbidden":
        text = "unknown setting"
    elif kind in ("model_type", "model_attributes_type", "dict_type") and len(loc) == len(where_parts):
        text = "expected a table"
    elif kind == "literal_error":
        choices = first.get("ctx", {}).get("expected", "")
        text = f"{value!r} is not one of {choices.replace(' or ', ', ').replace(chr(39), '')}"
    elif kind.endswith(("_parsing", "_type")):
        expected = _TYPE_NAMES.get(kind.split("_")[0], kind.split("_")[0])
        text = f"{value!r} is not a valid {expected}"
    elif kind in ("greater_than_equal", "less_than_equal"):
        text = f"{value!r} is out of range ({message.lower()})"
    elif kind == "value_error":
        text = message.removeprefix("Value error, ")
    else:
        text = f"{value!r}: {message}"
    source = environment.get(tuple(where_parts))
    return f"{where}: {text}" + (f" (from {source})" if source else "")


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings; raise SettingsError for a broken file or value."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get("INBOX_CONFIG"):
        path = Path(environ["INBOX_CONFIG"])
    explicit = path is not None
    path = path or default_config_path()
    data: dict[str, Any] = {}
    if path.exists():
        data = _read_toml(path)
        if "config_path" in data:  # where the file is, not a setting
            raise SettingsError("config_path: unknown setting")
    elif explicit:
        raise SettingsError(f"{path}: config file not found")
    environment, used = _environment_values(environ)
    values = _overlay(data, environment) | {"config_path": path if path.exists() else None}
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        cause = error.errors()[0].get("ctx", {}).get("error")
        if isinstance(cause, DatabaseURLError):
            raise cause from None
        raise SettingsError(_one_line(error, used)) from None
