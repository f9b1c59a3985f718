"""What the rest of the product may ask of an AI, whichever backend answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from inbox_tui.ai.knowledge import Passage


class AIError(Exception):
    """The model failed: timeout, HTTP error, or output that does not fit the contract."""


class AIUnavailable(AIError):
    """The backend cannot do this at all (the offline AI has no model to draft with)."""


def describe_failure(error: BaseException, timeout: float | None = None) -> str:
    """One line on why a model call failed: the exception's class and message, or how
    long it was given when it timed out."""
    if isinstance(error, TimeoutError) or isinstance(error.__cause__, TimeoutError):
        return f"timed out after {timeout:g} s" if timeout is not None else "timed out"
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass(frozen=True)
class TranscriptLine:
    author: str  # customer | bot | agent | system
    name: str
    text: str


@dataclass(frozen=True)
class TicketSummary:
    subject: str
    summary: str
    language: str | None


@dataclass(frozen=True)
class BotReply:
    """Either a text for the customer or a decision to escalate (with the model's reason)."""

    text: str | None = None
    escalate_reason: str | None = None

    @property
    def escalates(self) -> bool:
        return self.escalate_reason is not None


@dataclass(frozen=True)
class BotContext:
    instructions: str
    #: The knowledge passages retrieved for the customer's last message, best first;
    #: empty when nothing relevant was found.
    knowledge: Sequence[Passage]
    escalation_triggers: Sequence[str]
    fallback_message: str
    transcript: Sequence[TranscriptLine]
    language: str | None


@runtime_checkable
class AIBackend(Protocol):
    name: str
    #: True when a real model answers (drafting, polishing and free translation need one).
    has_model: bool

    def detect_language(self, text: str) -> str | None: ...

    async def summarize(self, transcript: Sequence[TranscriptLine], language: str | None) -> TicketSummary: ...

    async def reply(self, context: BotContext) -> BotReply: ...

    async def translate(self, text: str, target_language: str) -> str: ...

    async def draft_reply(
        self, transcript: Sequence[TranscriptLine], language: str | None, notes: Sequence[str] = ()
    ) -> str: ...

    async def polish(self, draft: str, language: str | None) -> str: ...

    async def close(self) -> None:
        """Release what the backend holds open (the model client's connections)."""
