"""The offline AI: no key, no network, deterministic.

- Summary: extractive, from the customer's own sentences, so it is in the transcript's
  language by construction.
- Bot replies: a yes to the bot's own offer of a teammate escalates (a no keeps the
  bot); explicit requests for a person escalate (six languages, plus the team's own
  phrases); otherwise the best retrieved knowledge passage answers, and when nothing
  relevant is found the fallback line, in the customer's language, says so and offers
  a teammate. The customer's language is the conversation's (the hello's locale, or
  detected earlier), as for the handoff message; only while it is unknown is the
  message itself detected (which also keeps detection off the bot's hot path).
- Drafting, polishing and free translation need a model: they raise AIUnavailable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from inbox_tui.ai.interface import (
    AIUnavailable,
    BotContext,
    BotReply,
    TicketSummary,
    TranscriptLine,
)
from inbox_tui.ai.knowledge import KnowledgeBase, Passage
from inbox_tui.ai.language import detect_language
from inbox_tui.ai.phrasebook import (
    ACCEPTED_OFFER_REASON,
    ASKED_FOR_PERSON_REASON,
    answer_to_offer,
    asks_for_human,
    declined_line,
    fallback_line,
    offers_teammate,
)
from inbox_tui.ai.text import fold

SUBJECT_MAX = 80
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")

__all__ = ["OfflineAI", "asks_for_human", "extractive_summary", "fold", "sentences"]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def _subject_from(sentence: str) -> str:
    subject = sentence.rstrip(".!?。！？ ")
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rsplit(" ", 1)[0] + "…"
    return subject or "Live chat"


def extractive_summary(transcript: Sequence[TranscriptLine], language: str | None = None) -> TicketSummary:
    """Subject and two or three sentences taken from what the customer wrote; the bot's
    sentences fill in only where they are in the customer's language (an offline bot's
    English fallback line must not end up in a French summary)."""
    customer = [s for line in transcript if line.author == "customer" for s in sentences(line.text)]
    detected = language or detect_language(" ".join(customer))
    others = [s for line in transcript if line.author == "bot" for s in sentences(line.text)]
    if not customer and not others:
        return TicketSummary("Live chat", "The conversation has no messages yet.", language)
    if customer and detected:
        others = [s for s in others if detect_language(s) == detected]
    pool = customer or others
    # The question usually opens the chat; the longest sentence carries most detail;
    # the last one says where things stand.
    picked: list[str] = [pool[0]]
    for candidate in (max(pool, key=len), pool[-1]):
        if candidate not in picked:
            picked.append(candidate)
    for candidate in pool[1:] + others:
        if len(picked) >= 2:
            break
        if candidate not in picked:
            picked.append(candidate)
    summary = " ".join(s if s[-1] in ".!?。！？" else s + "." for s in picked[:3])
    return TicketSummary(_subject_from(pool[0]), summary, detected)


class OfflineAI:
    name = "offline"
    has_model = False

    def __init__(self, knowledge: KnowledgeBase | str | None = None, extra_human_phrases: Iterable[str] = ()) -> None:
        if isinstance(knowledge, str):
            knowledge = KnowledgeBase.from_text(knowledge)
        #: Searched when the caller sent no passages with the question.
        self.knowledge = knowledge
        self.extra_human_phrases = tuple(extra_human_phrases)

    @classmethod
    def from_file(cls, path: str | None, extra_human_phrases: Iterable[str] = ()) -> OfflineAI:
        """The knowledge at ``path``: a Markdown file or a folder of them."""
        return cls(KnowledgeBase(Path(path)) if path else None, extra_human_phrases)

    def detect_language(self, text: str) -> str | None:
        return detect_language(text)

    async def close(self) -> None:
        """Nothing to release: no connections."""

    async def summarize(self, transcript: Sequence[TranscriptLine], language: str | None) -> TicketSummary:
        return extractive_summary(transcript, language)

    def passages_for(self, context: BotContext, question: str) -> Sequence[Passage]:
        if context.knowledge or self.knowledge is None:
            return context.knowledge
        return self.knowledge.search(question)

    async def reply(self, context: BotContext) -> BotReply:
        transcript = list(context.transcript)
        last_customer = max((i for i, line in enumerate(transcript) if line.author == "customer"), default=None)
        if last_customer is None:
            return BotReply(text=fallback_line(context.language, context.fallback_message))
        question = transcript[last_customer].text
        # The line the customer answers: the last one not theirs. A teammate's word or
        # a handoff since the bot's offer means the offer is not what they answer.
        previous = next((line for line in reversed(transcript[:last_customer]) if line.author != "customer"), None)
        offered = (
            previous is not None
            and previous.author == "bot"
            and offers_teammate(previous.text, context.fallback_message)
        )
        answer = answer_to_offer(question) if offered else None
        if answer is True:
            return BotReply(escalate_reason=ACCEPTED_OFFER_REASON)
        if asks_for_human(question, self.extra_human_phrases):
            return BotReply(escalate_reason=ASKED_FOR_PERSON_REASON)
        if answer is False:
            return BotReply(text=declined_line(context.language or detect_language(question)))
        passages = self.passages_for(context, question)
        if passages:
            return BotReply(text=passages[0].text)
        return BotReply(text=fallback_line(context.language or detect_language(question), context.fallback_message))

    async def translate(self, text: str, target_language: str) -> str:
        raise AIUnavailable(
            "Translation needs a model; the offline AI has none. Configure OPENAI_API_KEY or OPENAI_BASE_URL."
        )

    async def draft_reply(
        self, transcript: Sequence[TranscriptLine], language: str | None, notes: Sequence[str] = ()
    ) -> str:
        raise AIUnavailable(
            "Drafting needs a model; the offline AI has none. Configure OPENAI_API_KEY or OPENAI_BASE_URL."
        )

    async def polish(self, draft: str, language: str | None) -> str:
        raise AIUnavailable(
            "Polishing needs a model; the offline AI has none. Configure OPENAI_API_KEY or OPENAI_BASE_URL."
        )
