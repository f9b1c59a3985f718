"""The words of the lines a customer is told about who holds their conversation.

Three kinds: in the queue, who joined (``{name}``), when the team is back (``{when}``).
A line is chosen for the customer's language in this order: the team's own line from
``[status_lines]`` in config.toml; the built-in line (en, es, de, fr, pt, it); the
model's translation of the English line; the English line.

Translation is done once per language and process, before the write transaction that
tells the customer (a model call never runs while a conversation is locked), and only
a translation that keeps its placeholders is used. Without a model, or when it fails or
times out, the customer gets the English line: they are always told something true.

The lines are the process's configuration, like the detector's languages: installed once
at start (``runtime.open_runtime``) and read by every flow that tells the customer
something, so a flow several layers down (a teammate coming online hands out the
backlog, which announces who joined) needs no extra parameter.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator, Mapping

from inbox_tui.ai.interface import AIBackend, describe_failure

log = logging.getLogger(__name__)


class StatusKind:
    QUEUED = "queued"
    JOINED = "joined"
    BACK_AT = "back_at"


KINDS = (StatusKind.QUEUED, StatusKind.JOINED, StatusKind.BACK_AT)

#: The values each kind of line may name; a line may also leave them out.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    StatusKind.QUEUED: frozenset(),
    StatusKind.JOINED: frozenset({"name"}),
    StatusKind.BACK_AT: frozenset({"when"}),
}

BUILT_IN_LINES: dict[str, dict[str, str]] = {
    StatusKind.QUEUED: {
        "en": "You are in the queue; the next available teammate will answer you here.",
        "es": "Estás en la cola; el próximo compañero disponible te responderá aquí.",
        "de": "Sie sind in der Warteschlange; das nächste freie Teammitglied antwortet Ihnen hier.",
        "fr": "Vous êtes dans la file d'attente ; le prochain membre disponible de l'équipe vous répondra ici.",
        "pt": "Você está na fila; o próximo membro da equipe disponível vai responder aqui.",
        "it": "Sei in coda; il prossimo membro del team disponibile ti risponderà qui.",
    },
    StatusKind.JOINED: {
        "en": "{name} has joined the conversation.",
        "es": "{name} se ha unido a la conversación.",
        "de": "{name} ist dem Gespräch beigetreten.",
        "fr": "{name} a rejoint la conversation.",
        "pt": "{name} entrou na conversa.",
        "it": "{name} si è unito alla conversazione.",
    },
    StatusKind.BACK_AT: {
        "en": "Our team is away right now and back at {when}; your message is kept and answered then.",
        "es": (
            "Nuestro equipo no está disponible ahora y vuelve a las {when}; "
            "tu mensaje se guarda y se responderá entonces."
        ),
        "de": (
            "Unser Team ist gerade nicht da und ab {when} zurück; "
            "Ihre Nachricht bleibt erhalten und wird dann beantwortet."
        ),
        "fr": (
            "Notre équipe est absente pour le moment et revient à {when} ; "
            "votre message est gardé et recevra une réponse à ce moment-là."
        ),
        "pt": "Nossa equipe está ausente agora e volta às {when}; sua mensagem fica guardada e será respondida então.",
        "it": (
            "Il nostro team ora non è disponibile e torna alle {when}; "
            "il tuo messaggio è conservato e riceverà risposta allora."
        ),
    },
}

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: A model's translation longer than this many times the English line is not a line.
_MAX_GROWTH = 4
#: After a failed translation, the language is asked for again only after this long.
RETRY_AFTER_SECONDS = 300.0


def placeholders_in(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


def base_language(language: str | None) -> str | None:
    """The language code a line is looked up by: ``pt-BR`` → ``pt``."""
    if not language or not language.strip():
        return None
    return language.strip().lower().replace("_", "-").split("-")[0]


def fill(template: str, values: Mapping[str, str]) -> str:
    """Substitute values literally: a name with braces stays as it is."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


class StatusLines:
    """The team's lines, the built-in ones and the model's translations for one process.

    ``configured``: kind → language code → line (config.toml's ``[status_lines]``).
    ``translator``: the model that translates a line no one wrote for a language."""

    def __init__(
        self,
        configured: Mapping[str, Mapping[str, str]] | None = None,
        translator: AIBackend | None = None,
        *,
        timeout: float = 15.0,
    ) -> None:
        self.configured = {
            kind: {code: text for language, text in lines.items() if (code := base_language(language))}
            for kind, lines in (configured or {}).items()
        }
        self.translator = translator
        self.timeout = timeout
        self._translated: dict[str, dict[str, str]] = {}  # base language → kind → line
        self._failed_at: dict[str, float] = {}  # base language → time.monotonic() of a failure

    def _written(self, kind: str, language: str | None) -> str | None:
        """The team's or the built-in line for this language, if there is one."""
        code = base_language(language)
        if code is None:
            return None
        return self.configured.get(kind, {}).get(code) or BUILT_IN_LINES[kind].get(code)

    def english(self, kind: str) -> str:
        return self.configured.get(kind, {}).get("en") or BUILT_IN_LINES[kind]["en"]

    def template(self, kind: str, language: str | None) -> str:
        """The line for ``language`` as far as it is known now (no model call here)."""
        written = self._written(kind, language)
        if written is not None:
            return written
        code = base_language(language)
        translated = self._translated.get(code, {}) if code else {}
        return translated.get(kind) or self.english(kind)

    def text(self, kind: str, language: str | None, **values: str) -> str:
        return fill(self.template(kind, language), values)

    def _untranslated(self, language: str | None) -> list[str]:
        code = base_language(language)
        if code is None or code == "en":
            return []
        translated = self._translated.get(code, {})
        return [kind for kind in KINDS if self._written(kind, language) is None and kind not in translated]

    def needs_model(self, language: str | None) -> bool:
        """Whether a line for ``language`` is still to be asked of the model: there is a
        model, no one wrote the line, and the model did not fail on it a moment ago."""
        if self.translator is None or not self.translator.has_model or not self._untranslated(language):
            return False
        failed_at = self._failed_at.get(base_language(language) or "")
        return failed_at is None or time.monotonic() - failed_at >= RETRY_AFTER_SECONDS

    async def prepare(self, language: str | None) -> None:
        """Ask the model for the lines ``language`` lacks, within ``timeout`` in all; on
        failure the English lines stand (and the model is asked again after a while)."""
        if not self.needs_model(language):
            return
        assert self.translator is not None
        base = base_language(language)
        assert base is not None  # needs_model is False without a language
        lines: dict[str, str] = {}
        try:
            async with asyncio.timeout(self.timeout):
                for kind in self._untranslated(language):
                    english = self.english(kind)
                    answer = (await self.translator.translate(english, base)).strip()
                    if _fits(answer, english):
                        lines[kind] = answer
                    else:
                        log.warning("the model's %s line for %r dropped or added a placeholder: %r", kind, base, answer)
        except Exception as error:  # noqa: BLE001 - any model failure: the English line is told
            log.warning("translating the status lines into %r failed: %s", base, describe_failure(error, self.timeout))
            self._failed_at[base] = time.monotonic()
            return
        self._translated.setdefault(base, {}).update(lines)
        if len(lines) < len(KINDS) and self._untranslated(language):
            self._failed_at[base] = time.monotonic()

    def templates(self) -> Iterator[str]:
        """Every line this process may tell a customer."""
        for kind in KINDS:
            yield from BUILT_IN_LINES[kind].values()
            yield from self.configured.get(kind, {}).values()
            for translated in self._translated.values():
                if kind in translated:
                    yield translated[kind]


def _fits(translation: str, english: str) -> bool:
    """A translation is used only when it is one short line naming exactly what the
    English line names (a dropped ``{name}`` would leave the customer guessing)."""
    return (
        bool(translation)
        and "\n" not in translation
        and len(translation) <= _MAX_GROWTH * len(english) + 40
        and placeholders_in(translation) == placeholders_in(english)
    )


_lines = StatusLines()


def configure_status_lines(lines: StatusLines) -> None:
    """Install the lines this process tells customers (at start, from the settings)."""
    global _lines
    _lines = lines


def status_lines() -> StatusLines:
    return _lines
