"""Typed settings: defaults that need nothing, a TOML file, then environment variables.

Precedence (lowest first): built-in defaults, ``config.toml`` in the user's config
directory (or the file named by ``INBOX_CONFIG`` / ``--config``), environment variables.
The model below is the one description of every setting: its field descriptions are what
``inbox-tui config init`` writes and what the README's configuration table is checked
against. A broken file or value raises :class:`SettingsError` with a one-line message a
user can act on.

The models are ``msgspec`` structs, the library the wire format already uses: the
inbox's start reads its settings before its first screen, and pydantic's import and
model building cost it about a tenth of a second. :func:`load_settings` converts the
merged file and environment with msgspec, which checks every type and limit (``ge``,
``gt``, ``le``). Building :class:`Settings` in code (tests, the demo) takes exactly what
is passed: it runs each section's own checks and normalizations (``__post_init__``), and
the types are left to the type checker.

Annotations here are evaluated when the classes are made (no ``from __future__ import
annotations``): reading each setting's metadata back, and msgspec's first conversion,
then take a fraction of a millisecond instead of several.
"""

import functools
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, Self

import msgspec
import platformdirs
from msgspec import Meta, Struct, field

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


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{data_dir() / 'inbox.db'}"


class Secret:
    """A secret setting's text (a key, a token): never shown by ``repr`` or in a log."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def secret(value: Secret | None) -> str | None:
    """The text of a secret setting, for the one place that sends it."""
    return value.get_secret_value() if value is not None else None


def _setting(description: str, *, env: str | None = None, **limits: float) -> Meta:
    """A setting's description, the environment variable that sets it, and its limits
    (``ge``, ``gt``, ``le``: checked when the file and the environment are read)."""
    options: dict[str, Any] = {"description": description, "extra": {"env": env} if env else {}, **limits}
    return Meta(**options)


class _Invalid(ValueError):
    """A value a section's own check refused; ``name`` is the setting."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _as_secret(value: Secret | str | None) -> Secret | None:
    # Code that builds settings (tests, the demo) may hand a secret over as plain text.
    return Secret(value) if isinstance(value, str) else value


class _Model(Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (checked again, as at construction)."""
        return msgspec.structs.replace(self, **changes)


# ``frozen=True`` again on each subclass: msgspec inherits it, mypy's reading of the
# classes does not.
class _Section(_Model, frozen=True):
    pass


class AISettings(_Section, frozen=True):
    backend: Annotated[
        Literal["auto", "offline", "openai"],
        _setting("`auto` (a model if a key or base URL is set), `offline`, `openai`", env="INBOX_AI"),
    ] = "auto"
    api_key: Annotated[Secret | None, _setting("key for an OpenAI-compatible endpoint", env="OPENAI_API_KEY")] = None
    base_url: Annotated[
        str | None, _setting("e.g. `http://localhost:11434/v1` (Ollama), vLLM, llama.cpp", env="OPENAI_BASE_URL")
    ] = None
    model: Annotated[str, _setting("model name", env="INBOX_MODEL")] = "gpt-4o-mini"
    timeout: Annotated[
        float, _setting("seconds before a model call counts as failed", env="INBOX_AI_TIMEOUT", ge=0)
    ] = 20.0
    summary_timeout: Annotated[
        float,
        _setting(
            "seconds the model gets for a ticket summary before the local one is written",
            env="INBOX_SUMMARY_TIMEOUT",
            ge=0,
        ),
    ] = 15.0
    max_reply_chars: Annotated[
        int, _setting("the longest bot answer shown to a customer (`max_tokens` is sized from it)", ge=1)
    ] = 4000

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "api_key", _as_secret(self.api_key))

    @property
    def uses_model(self) -> bool:
        if self.backend == "offline":
            return False
        if self.backend == "openai":
            return True
        return bool(self.api_key or self.base_url)


class BotSettings(_Section, frozen=True):
    instructions: Annotated[str, _setting("the bot's instructions (its system prompt)")] = (
        "You are the support assistant of this company. Answer briefly and only from the "
        "knowledge you were given. Reply in the customer's language."
    )
    knowledge_file: Annotated[
        str | None,
        _setting("what the bot knows: a Markdown file or a folder of them (see below)", env="INBOX_KNOWLEDGE_FILE"),
    ] = None
    handoff_message: Annotated[
        str, _setting("what the customer reads when a person takes over", env="INBOX_HANDOFF_MESSAGE")
    ] = DEFAULT_HANDOFF_MESSAGE
    handoff_translations: Annotated[dict[str, str], _setting("the handoff message by language code (a table)")] = field(
        default_factory=lambda: dict(DEFAULT_HANDOFF_TRANSLATIONS)
    )
    fallback_message: Annotated[str, _setting("what the offline bot says when its knowledge has no answer")] = (
        "I'm not sure about that one. Would you like me to connect you with a teammate?"
    )
    escalation_triggers: Annotated[list[str], _setting("when the model hands the conversation to a person")] = field(
        default_factory=lambda: list(DEFAULT_ESCALATION_TRIGGERS)
    )
    extra_human_phrases: Annotated[
        list[str], _setting("your own ways of asking for a person, on top of the built-in ones (offline bot)")
    ] = field(default_factory=list)
    reply_lease_seconds: Annotated[
        float,
        _setting(
            "seconds a server node holds an owed bot answer (renewed while it works); "
            "after a crash another node answers it once this ran out",
            gt=0,
        ),
    ] = 15.0
    owed_reply_max_age_seconds: Annotated[
        float,
        _setting("an owed bot answer older than this is not answered any more: it escalates to a teammate", gt=0),
    ] = 300.0


_STATUS_LINE_PLACEHOLDERS = {"queued": set[str](), "joined": {"name"}, "back_at": {"when"}}


def _check_status_lines(name: str, lines: dict[str, str]) -> None:
    allowed = _STATUS_LINE_PLACEHOLDERS[name]
    for language, text in lines.items():
        if not language.strip() or not text.strip():
            raise _Invalid(name, "a language code and its line must not be empty")
        if not re.fullmatch(r"[A-Za-z]{2,3}", language):
            raise _Invalid(name, f"{language!r}: a language code alone, such as `pt` or `nl`")
        unknown = sorted(set(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", text)) - allowed)
        if unknown:
            usable = ", ".join("{" + placeholder + "}" for placeholder in sorted(allowed)) or "none"
            raise _Invalid(name, f"{language}: unknown placeholder {{{unknown[0]}}} (usable: {usable})")


class StatusLineSettings(_Section, frozen=True):
    """What the customer is told about who holds their conversation, by language code.
    A line given here replaces the built-in one for that language (en, es, de, fr, pt,
    it are built in); a language with none is translated by the model, else English."""

    queued: Annotated[dict[str, str], _setting("while the ticket waits in Unassigned, by language code (a table)")] = (
        field(default_factory=dict)
    )
    joined: Annotated[
        dict[str, str], _setting("when a teammate joins, `{name}` for who, by language code (a table)")
    ] = field(default_factory=dict)
    back_at: Annotated[
        dict[str, str],
        _setting("when the next shift holds the ticket, `{when}` for the time, by language code (a table)"),
    ] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in _STATUS_LINE_PLACEHOLDERS:
            _check_status_lines(name, getattr(self, name))


class ServerSettings(_Section, frozen=True):
    host: Annotated[str, _setting("address the chat server listens on", env="INBOX_HOST")] = "127.0.0.1"
    port: Annotated[int, _setting("port the chat server listens on", env="INBOX_PORT", ge=0, le=65535)] = 8765
    max_frame_bytes: Annotated[int, _setting("largest frame a client may send, in bytes", ge=0)] = 16 * 1024
    max_message_chars: Annotated[int, _setting("longest customer message, in characters", ge=0)] = 4000
    rate_limit_per_second: Annotated[float, _setting("customer messages per second, per connection", ge=0)] = 5.0
    rate_limit_burst: Annotated[int, _setting("customer messages allowed in a burst", ge=0)] = 20
    database_wait_seconds: Annotated[
        float, _setting("how long `serve` waits at start for an unreachable PostgreSQL (0: for ever)", ge=0)
    ] = 300.0
    allowed_origins: Annotated[
        list[str],
        _setting(
            "web pages (`https://shop.example.com`, `https://*.example.com` or `*`) whose chat widget "
            "may open `/chat`; empty: the server's own origin and loopback pages"
        ),
    ] = field(default_factory=list)
    new_conversations_per_minute: Annotated[
        float, _setting("new conversations per client address and minute (0: no limit)", ge=0)
    ] = 30.0
    new_conversations_burst: Annotated[int, _setting("new conversations a client address may open at once", ge=0)] = 10
    new_conversations_limit_loopback: Annotated[
        bool, _setting("limit loopback addresses too (a reverse proxy on this host makes every customer loopback)")
    ] = False


class AssignmentSettings(_Section, frozen=True):
    rule: Annotated[
        Literal["least_loaded", "round_robin"],
        _setting("`least_loaded` or `round_robin`", env="INBOX_ASSIGNMENT_RULE"),
    ] = "least_loaded"
    next_shift_fallback: Annotated[
        bool, _setting("with nobody available, give the ticket to the teammate whose shift starts next")
    ] = True
    presence_timeout: Annotated[
        float, _setting("seconds without a heartbeat before a teammate counts as offline", ge=0)
    ] = 60.0


class AlertSettings(_Section, frozen=True):
    """How the inbox gets a teammate's attention (see README, "Staying on top of the queue")."""

    bell: Annotated[bool, _setting("ring the terminal bell with every alert")] = True
    desktop: Annotated[
        bool, _setting("a desktop notification with every alert (OSC 9 and OSC 777; through tmux too)")
    ] = True
    window_title: Annotated[bool, _setting("show the unread count in the terminal window title")] = True
    interval_seconds: Annotated[float, _setting("one ticket alerts at most once in this many seconds", ge=0)] = 60.0
    wait_threshold_seconds: Annotated[
        float, _setting("alert when a customer on your ticket has waited longer than this", gt=0)
    ] = 300.0


class TUISettings(_Section, frozen=True):
    server_url: Annotated[
        str | None,
        _setting("the chat server an inbox connects to (default `ws://127.0.0.1:8765`)", env="INBOX_SERVER_URL"),
    ] = None
    agent: Annotated[
        str | None, _setting("your handle: the inbox checks that the token is this teammate's", env="INBOX_AGENT")
    ] = None
    token: Annotated[
        Secret | None, _setting("the teammate's token (`inbox-tui agents add` / `agents token`)", env="INBOX_TOKEN")
    ] = None
    theme: Annotated[
        str, _setting("`inbox-dark`, `inbox-light`, `inbox-high-contrast`, or your own", env="INBOX_THEME")
    ] = "inbox-dark"
    keymap: Annotated[dict[str, str], _setting("key bindings by action (a table)")] = field(default_factory=dict)
    idle_minutes: Annotated[
        int,
        _setting("a conversation idle this long leaves the Conversations view (search still finds it; 0: never)", ge=0),
    ] = 30

    def __post_init__(self) -> None:
        handle = self.agent.strip().lstrip("@").lower() or None if self.agent is not None else None
        msgspec.structs.force_setattr(self, "agent", handle)
        msgspec.structs.force_setattr(self, "token", _as_secret(self.token))


class WebSettings(_Section, frozen=True):
    """`inbox-tui web`: browser sign-in."""

    public_url: Annotated[
        str | None,
        _setting(
            "the address browsers use for `inbox-tui web` (sign-in links point there)", env="INBOX_WEB_PUBLIC_URL"
        ),
    ] = None
    session_idle_minutes: Annotated[
        float,
        _setting("a browser session ends after this long without use", env="INBOX_WEB_SESSION_IDLE_MINUTES", gt=0),
    ] = 480.0
    sign_in_link_minutes: Annotated[float, _setting("how long a one-time sign-in link stays valid", gt=0)] = 15.0
    sign_in_attempts: Annotated[int, _setting("failed sign-ins allowed per address within the window", ge=1)] = 5
    sign_in_window_seconds: Annotated[float, _setting("the window for failed sign-ins, in seconds", gt=0)] = 300.0


class Settings(_Model, frozen=True):
    database_url: Annotated[
        str, _setting("`sqlite:///path/inbox.db` or `postgresql://user@host/db`", env="INBOX_DB_URL")
    ] = field(default_factory=default_database_url)
    summary_lease_seconds: Annotated[
        float, _setting("seconds a summary worker holds a ticket before another may take it over", ge=0)
    ] = 60.0
    ai: Annotated[AISettings, _setting("the model")] = field(default_factory=AISettings)
    bot: Annotated[BotSettings, _setting("the chatbot")] = field(default_factory=BotSettings)
    status_lines: Annotated[
        StatusLineSettings, _setting("what the customer is told about who holds their conversation")
    ] = field(default_factory=StatusLineSettings)
    server: Annotated[ServerSettings, _setting("the chat server")] = field(default_factory=ServerSettings)
    assignment: Annotated[AssignmentSettings, _setting("who gets a ticket")] = field(default_factory=AssignmentSettings)
    tui: Annotated[TUISettings, _setting("the inbox")] = field(default_factory=TUISettings)
    alerts: Annotated[AlertSettings, _setting("alerts in the inbox")] = field(default_factory=AlertSettings)
    web: Annotated[WebSettings, _setting("the inbox in a browser")] = field(default_factory=WebSettings)
    #: The file these settings came from (not a setting).
    config_path: Path | None = None

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "database_url", normalize_database_url(self.database_url))

    @property
    def bridge_base_url(self) -> str:
        return self.tui.server_url or f"ws://{self.server.host}:{self.server.port}"


class SettingField(NamedTuple):
    """One setting as the README, ``config init`` and the environment know it."""

    section: str | None
    name: str
    description: str
    environment_variable: str | None
    choices: tuple[Any, ...]  # a Literal's values; () for any other type


@functools.cache
def _fields_of(model: type[_Model]) -> dict[str, tuple[Any, Meta | None]]:
    """Each field's type and its :func:`_setting` metadata, in the model's order."""
    hints = typing.get_type_hints(model, include_extras=True)
    found: dict[str, tuple[Any, Meta | None]] = {}
    for name in model.__struct_fields__:
        hint = hints[name]
        meta = None
        if typing.get_origin(hint) is Annotated:
            hint, *extras = typing.get_args(hint)
            meta = next((extra for extra in extras if isinstance(extra, Meta)), None)
        found[name] = (hint, meta)
    return found


SECTIONS: dict[str, type[_Section]] = {
    name: hint
    for name, (hint, _meta) in _fields_of(Settings).items()
    if isinstance(hint, type) and issubclass(hint, _Section)
}


@functools.cache
def setting_fields() -> tuple[SettingField, ...]:
    """Every setting, in the model's order: the top-level ones, then each section's
    (``config_path``, which says where they came from, is not one)."""
    found: list[SettingField] = []
    owners: list[tuple[str | None, type[_Model]]] = [(None, Settings), *SECTIONS.items()]
    for section, model in owners:
        for name, (hint, meta) in _fields_of(model).items():
            if meta is None or (section is None and name in SECTIONS):
                continue
            variable = (meta.extra or {}).get("env")
            choices = typing.get_args(hint) if typing.get_origin(hint) is Literal else ()
            found.append(SettingField(section, name, meta.description or "", variable, choices))
    return tuple(found)


def environment_variables() -> dict[str, tuple[str | None, str]]:
    """Environment variable → (section or None, field name)."""
    return {
        item.environment_variable: (item.section, item.name)
        for item in setting_fields()
        if item.environment_variable is not None
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


#: msgspec's names for the types whose names a user would not know.
_TYPE_NAMES = {"array": "list", "object": "table"}
_PROBLEM = re.compile(r"(?P<problem>.*?)(?: - at `\$(?P<path>[^`]*)`)?")
#: A step of msgspec's path: ``.name``, ``[index]``, or ``[...]`` (a table's entry:
#: msgspec does not name its key).
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]|\[\.\.\.\]")
_ENTRY = ...


def _steps(path: str) -> list[Any]:
    """``.bot.escalation_triggers[1]`` → ``["bot", "escalation_triggers", 1]``."""
    return [name or (int(index) if index else _ENTRY) for name, index in _STEP.findall(path)]


def _given(values: Mapping[str, Any], steps: list[Any]) -> tuple[Any, bool]:
    """The value at ``steps``, and whether it is a whole table because the steps go on
    into its entries."""
    found: Any = values
    for step in steps:
        if step is _ENTRY:
            return found, True
        if isinstance(step, str) and isinstance(found, Mapping):
            found = found.get(step)
        elif isinstance(step, int) and isinstance(found, list) and step < len(found):
            found = found[step]
        else:
            return None, False
    return found, False


def _one_line(
    error: msgspec.ValidationError, values: Mapping[str, Any], environment: Mapping[tuple[str, ...], str]
) -> str:
    """The problem, as ``section.key: what is wrong`` (with the variable that set it)."""
    match = _PROBLEM.fullmatch(str(error))
    assert match is not None  # the pattern matches any text
    problem, steps = match["problem"], _steps(match["path"] or "")
    # A problem inside a list or a table names the setting, not the element.
    names = tuple(step for step in steps if isinstance(step, str))
    where = names[:2] if names and names[0] in SECTIONS else names[:1]
    cause = error.__cause__
    if isinstance(cause, _Invalid):  # a section's own check: it names the setting
        where, text = (*where, cause.name), str(cause)
    elif unknown := re.fullmatch(r"Object contains unknown field `(.*)`", problem):
        where, text = (*where, unknown[1]), "unknown setting"
    else:
        value, in_table = _given(values, steps)
        expected = re.fullmatch(r"Expected `(\w+)`(?:, got `\w+`)?(?P<limit> .*)?", problem)
        kind = _TYPE_NAMES.get(expected[1], expected[1]) if expected else ""
        if expected and len(names) == 1 and names[0] in SECTIONS:
            text = "expected a table"
        elif expected and expected["limit"]:
            text = f"{value!r} is out of range (expected {expected[1]}{expected['limit']})"
        elif expected and in_table:
            text = f"{value!r} holds a value that is not a valid {kind}"
        elif expected:
            text = f"{value!r} is not a valid {kind}"
        elif problem.startswith("Invalid enum value"):
            section, name = (None, *where) if len(where) == 1 else where
            choices = next(f.choices for f in setting_fields() if (f.section, f.name) == (section, name))
            text = f"{value!r} is not one of {', '.join(map(str, choices))}"
        else:
            text = problem
    source = environment.get(where)
    return f"{'.'.join(where)}: {text}" + (f" (from {source})" if source else "")


def _decode(kind: type, value: Any) -> Any:
    """The types msgspec leaves to us: a secret's text, the settings file's path."""
    if kind is Secret and isinstance(value, str):
        return Secret(value)
    if kind is Path and isinstance(value, (str, Path)):
        return Path(value)
    raise ValueError(f"Expected `str`, got `{type(value).__name__}`")


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
        # Not strict: an environment variable's text becomes the number or flag it spells.
        return msgspec.convert(values, Settings, strict=False, dec_hook=_decode)
    except msgspec.ValidationError as error:
        if isinstance(error.__cause__, DatabaseURLError):
            raise error.__cause__ from None
        raise SettingsError(_one_line(error, values, used)) from None
