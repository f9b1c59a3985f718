"""The offline AI: no key, no network, deterministic.

- Summary: extractive, from the customer's own sentences, so it is in the transcript's
  language by construction.
- Bot replies: answers from the knowledge file when a question matches a topic,
  escalation on explicit requests for a person (several languages), otherwise the
  configured fallback message that offers a teammate.
- Drafting, polishing and free translation need a model: they raise AIUnavailable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inbox_tui.ai.interface import (
    AIUnavailable,
    BotContext,
    BotReply,
    TicketSummary,
    TranscriptLine,
)
from inbox_tui.ai.language import detect_language

SUBJECT_MAX = 80
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)

# Explicit requests for a person. Matched on accent-folded, lower-cased text.
HUMAN_REQUEST_PATTERNS: dict[str, str] = {
    "en": r"\b(human|real person|a person|someone real|live agent|an agent|representative|talk to (a |an |some)?(one|body|agent|person|teammate|staff)|speak (to|with) (a |an )?(person|human|agent|someone))\b",
    "es": r"\b(humano|una persona|persona real|un agente|hablar con (alguien|una persona|un agente|un humano)|atencion humana|operador)\b",
    "de": r"\b(mensch|menschen|mitarbeiter|mitarbeiterin|echte person|einer person|kundenberater|berater)\b",
    "fr": r"\b(humain|une personne|vraie personne|un agent|conseiller|conseillere|parler a quelqu un|un operateur)\b",
    "pt": r"\b(humano|uma pessoa|pessoa real|atendente|um agente|falar com (alguem|uma pessoa|um agente))\b",
    "it": r"\b(umano|una persona|operatore|parlare con (qualcuno|una persona))\b",
}
_HUMAN_REQUEST = re.compile("|".join(f"(?:{p})" for p in HUMAN_REQUEST_PATTERNS.values()))

_STOPWORDS = frozenset(
    "the and for you your with what how can are does this that have from when where which "
    "los las una para por con que como del pero mas esta este son "
    "der die das und ist mit wie was ich sie ein eine fur nicht "
    "les des une pour est avec que qui comment dans pas vous "
    "uma para com que como nao por dos das meu minha".split()
)


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Atención' matches 'atencion'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("'", " ")


def asks_for_human(text: str) -> bool:
    return bool(_HUMAN_REQUEST.search(fold(text)))


def keywords(text: str) -> set[str]:
    return {w for w in _WORD.findall(fold(text)) if w not in _STOPWORDS}


@dataclass(frozen=True)
class KnowledgeTopic:
    title: str
    answer: str
    terms: frozenset[str]


def parse_knowledge(markdown: str) -> list[KnowledgeTopic]:
    """A knowledge file is Markdown: each ``## heading`` is a topic, its body the answer.
    An optional ``Keywords: a, b, c`` line adds match terms (say, in other languages)."""
    topics: list[KnowledgeTopic] = []
    for block in re.split(r"^##\s+", markdown, flags=re.MULTILINE)[1:]:
        title, _, body = block.partition("\n")
        extra = ""
        lines = []
        for line in body.strip().splitlines():
            if line.lower().startswith("keywords:"):
                extra += " " + line.split(":", 1)[1]
            else:
                lines.append(line)
        answer = "\n".join(lines).strip()
        if title.strip() and answer:
            terms = keywords(title) | keywords(extra.replace(",", " "))
            topics.append(KnowledgeTopic(title.strip(), answer, frozenset(terms)))
    return topics


def best_topic(topics: Sequence[KnowledgeTopic], question: str) -> KnowledgeTopic | None:
    words = keywords(question)
    scored = [(len(words & t.terms), t) for t in topics]
    scored = [(score, t) for score, t in scored if score > 0]
    if not scored:
        return None
    return max(scored, key=lambda pair: pair[0])[1]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def _subject_from(sentence: str) -> str:
    subject = sentence.rstrip(".!?。！？ ")
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rsplit(" ", 1)[0] + "…"
    return subject or "Live chat"


def extractive_summary(
    transcript: Sequence[TranscriptLine], language: str | None = None
) -> TicketSummary:
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

    def __init__(self, knowledge: str = "") -> None:
        self.topics = parse_knowledge(knowledge)

    @classmethod
    def from_file(cls, path: str | None) -> OfflineAI:
        return cls(Path(path).read_text(encoding="utf-8") if path else "")

    def detect_language(self, text: str) -> str | None:
        return detect_language(text)

    async def summarize(
        self, transcript: Sequence[TranscriptLine], language: str | None
    ) -> TicketSummary:
        return extractive_summary(transcript, language)

    async def reply(self, context: BotContext) -> BotReply:
        last = next((l.text for l in reversed(context.transcript) if l.author == "customer"), "")
        if asks_for_human(last):
            return BotReply(escalate_reason="The customer asked for a person.")
        topic = best_topic(self.topics, last)
        if topic is not None:
            return BotReply(text=topic.answer)
        return BotReply(text=context.fallback_message)

    async def translate(self, text: str, target_language: str) -> str:
        raise AIUnavailable("Translation needs a model; the offline AI has none. Configure OPENAI_API_KEY or OPENAI_BASE_URL.")

    async def draft_reply(
        self, transcript: Sequence[TranscriptLine], language: str | None, notes: Sequence[str] = ()
    ) -> str:
        raise AIUnavailable("Drafting needs a model; the offline AI has none. Configure OPENAI_API_KEY or OPENAI_BASE_URL.")

    async def polish(self, draft: str, language: str | None) -> str:
        raise AIUnavailable("Polishing needs a model; the offline AI has none. Configure OPENAI_API_KEY or OPENAI_BASE_URL.")
