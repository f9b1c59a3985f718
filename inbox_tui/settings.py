"""Typed settings: defaults that need nothing, a TOML file, then environment variables.

Precedence (lowest first): built-in defaults, ``config.toml`` in the user's config
directory (or the file named by ``INBOX_CONFIG``), environment variables.
A broken file or value raises :class:`SettingsError` with a message a user can act on.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Mapping

import platformdirs

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


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{data_dir() / 'inbox.db'}"


@dataclass(frozen=True)
class AISettings:
    backend: str = "auto"  # auto | offline | openai
    api_key: str | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    timeout: float = 20.0
    summary_timeout: float = 15.0
    # The longest bot answer shown to a customer; ``max_tokens`` is sized from it.
    max_reply_chars: int = 4000

    @property
    def uses_model(self) -> bool:
        if self.backend == "offline":
            return False
        if self.backend == "openai":
            return True
        return bool(self.api_key or self.base_url)


@dataclass(frozen=True)
class BotSettings:
    instructions: str = (
        "You are the support assistant of this company. Answer briefly and only from the "
        "knowledge you were given. Reply in the customer's language."
    )
    knowledge_file: str | None = None
    handoff_message: str = DEFAULT_HANDOFF_MESSAGE
    handoff_translations: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_HANDOFF_TRANSLATIONS)
    )
    fallback_message: str = (
        "I'm not sure about that one. Would you like me to connect you with a teammate?"
    )
    escalation_triggers: list[str] = field(
        default_factory=lambda: list(DEFAULT_ESCALATION_TRIGGERS)
    )
    # An owed answer is held this long by the node working on it (renewed while it works);
    # after a crash, another node (or the restarted one) answers it once this ran out.
    reply_lease_seconds: float = 15.0
    # An owed answer older than this is not answered any more: a teammate gets it.
    owed_reply_max_age_seconds: float = 300.0


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8765
    max_frame_bytes: int = 16 * 1024
    max_message_chars: int = 4000
    rate_limit_per_second: float = 5.0
    rate_limit_burst: int = 20


@dataclass(frozen=True)
class AssignmentSettings:
    rule: str = "least_loaded"  # least_loaded | round_robin
    next_shift_fallback: bool = True
    presence_timeout: float = 60.0


@dataclass(frozen=True)
class TUISettings:
    server_url: str | None = None  # ws://host:port ; defaults to the server settings
    agent: str | None = None  # the teammate's handle
    token: str | None = None  # bridge token for that teammate
    theme: str = "inbox-dark"
    keymap: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    summary_lease_seconds: float = 60.0
    ai: AISettings = field(default_factory=AISettings)
    bot: BotSettings = field(default_factory=BotSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    assignment: AssignmentSettings = field(default_factory=AssignmentSettings)
    tui: TUISettings = field(default_factory=TUISettings)
    config_path: Path | None = None

    @property
    def bridge_base_url(self) -> str:
        return self.tui.server_url or f"ws://{self.server.host}:{self.server.port}"


# Environment variable -> (section or None, field name)
ENVIRONMENT: dict[str, tuple[str | None, str]] = {
    "INBOX_DB_URL": (None, "database_url"),
    "INBOX_AI": ("ai", "backend"),
    "OPENAI_API_KEY": ("ai", "api_key"),
    "OPENAI_BASE_URL": ("ai", "base_url"),
    "INBOX_MODEL": ("ai", "model"),
    "INBOX_AI_TIMEOUT": ("ai", "timeout"),
    "INBOX_SUMMARY_TIMEOUT": ("ai", "summary_timeout"),
    "INBOX_KNOWLEDGE_FILE": ("bot", "knowledge_file"),
    "INBOX_HANDOFF_MESSAGE": ("bot", "handoff_message"),
    "INBOX_HOST": ("server", "host"),
    "INBOX_PORT": ("server", "port"),
    "INBOX_ASSIGNMENT_RULE": ("assignment", "rule"),
    "INBOX_SERVER_URL": ("tui", "server_url"),
    "INBOX_AGENT": ("tui", "agent"),
    "INBOX_TOKEN": ("tui", "token"),
    "INBOX_THEME": ("tui", "theme"),
}

_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("ai", "backend"): ("auto", "offline", "openai"),
    ("assignment", "rule"): ("least_loaded", "round_robin"),
}


def _coerce(value: Any, target: Any, where: str) -> Any:
    """Convert a TOML or environment value to the type of the default it replaces."""
    kind = type(target)
    try:
        if isinstance(target, bool):
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if isinstance(target, (int, float)) and not isinstance(target, bool):
            number = kind(value)
            if number < 0:
                raise ValueError(value)
            return number
        if isinstance(target, dict):
            if not isinstance(value, Mapping):
                raise ValueError(value)
            return {str(k): str(v) for k, v in value.items()}
        if isinstance(target, list):
            if not isinstance(value, list):
                raise ValueError(value)
            return [str(v) for v in value]
        if value is None:
            return None
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: {value!r} is not a valid {kind.__name__}") from None


def _merge(section: Any, values: Mapping[str, Any], prefix: str) -> Any:
    known = {f.name: f for f in fields(section)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise SettingsError(f"{prefix}{key}: unknown setting")
        current = getattr(section, key)
        if is_dataclass(current):
            if not isinstance(value, Mapping):
                raise SettingsError(f"{prefix}{key}: expected a table")
            changes[key] = _merge(current, value, f"{prefix}{key}.")
        elif current is None:
            changes[key] = None if value is None else str(value)
        else:
            changes[key] = _coerce(value, current, f"{prefix}{key}")
        choices = _CHOICES.get((prefix.rstrip("."), key))
        if choices and changes[key] not in choices:
            raise SettingsError(f"{prefix}{key}: {changes[key]!r} is not one of {', '.join(choices)}")
    return replace(section, **changes)


def load_settings(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings; raise SettingsError for a broken file or value."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get("INBOX_CONFIG"):
        path = Path(environ["INBOX_CONFIG"])
    explicit = path is not None
    path = path or config_dir() / "config.toml"
    settings = Settings()
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise SettingsError(f"{path}: not valid TOML: {error}") from None
        settings = _merge(settings, data, "")
        settings = replace(settings, config_path=path)
    elif explicit:
        raise SettingsError(f"{path}: config file not found")

    by_section: dict[str | None, dict[str, Any]] = {}
    for variable, (section, name) in ENVIRONMENT.items():
        if environ.get(variable):
            by_section.setdefault(section, {})[name] = environ[variable]
    if None in by_section:
        settings = _merge(settings, by_section.pop(None), "")
    for section, values in by_section.items():
        settings = _merge(settings, {section: values}, "")

    from inbox_tui.core.database_url import normalize_database_url

    return replace(settings, database_url=normalize_database_url(settings.database_url))
