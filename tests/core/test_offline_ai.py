"""The offline AI: language detection, extractive summaries, human requests, knowledge
answers, and the offer of a teammate kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_tui.ai.interface import AIBackend, AIUnavailable, BotContext, TranscriptLine
from inbox_tui.ai.knowledge import KnowledgeBase
from inbox_tui.ai.language import detect_language
from inbox_tui.ai.offline import (
    OfflineAI,
    asks_for_human,
    extractive_summary,
    sentences,
)
from inbox_tui.ai.phrasebook import (
    ACCEPTED_OFFER_REASON,
    DECLINED_LINES,
    FALLBACK_LINES,
)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hi, where is my order?", "en"),
        ("my card was charged twice", "en"),
        ("Hola, ¿dónde está mi pedido?", "es"),
        ("me cobraron dos veces", "es"),
        ("Hallo, wo ist meine Bestellung?", "de"),
        ("Ich habe zweimal bezahlt", "de"),
        ("Bonjour, où est ma commande ?", "fr"),
        ("j'ai payé deux fois", "fr"),
        ("Olá, onde está a minha encomenda?", "pt"),
        ("paguei duas vezes", "pt"),
    ],
)
def test_language_of_a_short_chat_line(text: str, language: str) -> None:
    # Unsure (None) is allowed on a line this short: the hello's locale then decides.
    # A wrong language is not. benchmarks/bench_language.py measures the rates.
    assert detect_language(text) in (language, None)


def test_most_short_chat_lines_are_detected() -> None:
    lines = {
        "Hi, where is my order?": "en",
        "my card was charged twice": "en",
        "Hola, ¿dónde está mi pedido?": "es",
        "me cobraron dos veces": "es",
        "Hallo, wo ist meine Bestellung?": "de",
        "Ich habe zweimal bezahlt": "de",
        "Bonjour, où est ma commande ?": "fr",
        "j'ai payé deux fois": "fr",
        "Olá, onde está a minha encomenda?": "pt",
        "paguei duas vezes": "pt",
        "Ciao, dov'è il mio ordine?": "it",
        "ho pagato due volte": "it",
    }
    right = sum(detect_language(text) == language for text, language in lines.items())
    assert right >= len(lines) - 2


def test_configured_languages_are_detected_too() -> None:
    from inbox_tui.ai import language

    dutch = "Waar is mijn bestelling? Ik heb twee keer betaald."
    assert detect_language(dutch) != "nl"
    language.configure(["nl"])
    try:
        assert detect_language(dutch) == "nl"
    finally:
        language.configure([])


@pytest.mark.parametrize("text", ["ok", "thx!", "??", "👍👍", "  ", "1234 5678"])
def test_too_short_to_tell(text: str) -> None:
    assert detect_language(text) is None


def _chat(*customer_lines: str, bot: str = "") -> list[TranscriptLine]:
    lines = []
    for text in customer_lines:
        lines.append(TranscriptLine("customer", "Carla", text))
        if bot:
            lines.append(TranscriptLine("bot", "Assistant", bot))
    return lines


SPANISH = _chat(
    "Hola, mi pedido 4471 no ha llegado todavía.",
    "Lo pagué hace dos semanas con envío urgente y el seguimiento no se actualiza desde el lunes.",
    "¿Pueden decirme dónde está o devolverme el dinero?",
    bot="Lo siento, no tengo esa información.",
)
GERMAN = _chat(
    "Guten Tag, ich kann mich nicht mehr in mein Konto einloggen.",
    "Das Passwort wurde zurückgesetzt, aber die E-Mail kam nie an.",
)


@pytest.mark.parametrize(("transcript", "language"), [(SPANISH, "es"), (GERMAN, "de")])
def test_extractive_summary_in_the_transcript_language(transcript: list[TranscriptLine], language: str) -> None:
    summary = extractive_summary(transcript, None)
    assert summary.language == language
    assert detect_language(summary.summary) == language
    assert 2 <= len(sentences(summary.summary)) <= 3
    customer_sentences = [s for line in transcript if line.author == "customer" for s in sentences(line.text)]
    # Taken from what the customer wrote, never from the bot's apology.
    assert all(s in customer_sentences for s in sentences(summary.summary))
    assert summary.subject and len(summary.subject) <= 80
    assert summary.subject in customer_sentences[0]


def test_extractive_summary_keeps_a_known_language_and_copes_with_little() -> None:
    one_line = extractive_summary(_chat("Refund please."), "en")
    assert one_line.language == "en" and one_line.summary == "Refund please."
    empty = extractive_summary([], "fr")
    assert empty.subject and empty.summary and empty.language == "fr"
    long_subject = extractive_summary(_chat("word " * 60 + "end."), None)
    assert len(long_subject.subject) <= 80 and long_subject.subject.endswith("…")


@pytest.mark.parametrize(
    "text",
    [
        "Can I talk to a human please?",
        "I want to speak with a person",
        "Quiero hablar con una persona",
        "¿Puedo hablar con un agente?",
        "Ich möchte mit einem Mitarbeiter sprechen",
        "Bitte einen echten Menschen!",
        "Je veux parler à un conseiller",
        "Je voudrais parler à quelqu'un, un humain",
        "Quero falar com um atendente",
        "Posso falar com alguém?",
    ],
)
def test_explicit_requests_for_a_person(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "¿Cuánto cuesta el envío?",
        "Wann kommt meine Bestellung?",
        "Quels sont vos horaires ?",
        "Qual é o prazo de entrega?",
        "This is a humanitarian donation question",
    ],
)
def test_ordinary_questions_are_not_requests_for_a_person(text: str) -> None:
    assert not asks_for_human(text)


KNOWLEDGE = """# Help centre

## Shipping times
Orders ship within 2 working days; delivery takes 3 to 5 days.
Keywords: envío, entrega, Lieferung, livraison, entrega, delivery

## Returns and refunds
You can return anything within 30 days for a full refund.
Keywords: devolución, reembolso, Rückgabe, remboursement, devolução
"""


def _context(
    text: str,
    *,
    before: tuple[TranscriptLine, ...] = (TranscriptLine("bot", "Assistant", "Hi!"),),
    fallback: str = "Shall I get a teammate?",
    language: str | None = None,
) -> BotContext:
    return BotContext(
        instructions="Be brief.",
        knowledge=(),
        escalation_triggers=["asks for a human"],
        fallback_message=fallback,
        transcript=[*before, TranscriptLine("customer", "Carla", text)],
        language=language,
    )


def test_knowledge_file_is_split_into_passages() -> None:
    passages = KnowledgeBase.from_text(KNOWLEDGE).passages
    assert [p.title for p in passages] == ["Shipping times", "Returns and refunds"]
    assert "Keywords" not in passages[0].text
    assert "Lieferung" in passages[0].keywords


@pytest.mark.parametrize(
    ("question", "answer_start"),
    [
        ("How long does shipping take?", "Orders ship"),
        ("¿Cuánto tarda el envío?", "Orders ship"),
        ("Wie lange dauert die Lieferung?", "Orders ship"),
        ("Do you do refunds?", "You can return"),
        ("Je voudrais un remboursement", "You can return"),
    ],
)
async def test_offline_bot_answers_from_the_knowledge_file(question: str, answer_start: str) -> None:
    reply = await OfflineAI(KNOWLEDGE).reply(_context(question))
    assert not reply.escalates
    assert reply.text is not None and reply.text.startswith(answer_start)


async def test_offline_bot_escalates_or_falls_back(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge.md"
    knowledge.write_text(KNOWLEDGE, encoding="utf-8")
    ai = OfflineAI.from_file(str(knowledge))
    assert isinstance(ai, AIBackend) and not ai.has_model
    escalates = await ai.reply(_context("Quero falar com uma pessoa"))
    assert escalates.escalates and escalates.text is None
    unknown = await ai.reply(_context("What is the meaning of life?"))
    assert unknown.text == "Shall I get a teammate?" and not unknown.escalates
    for needs_a_model in (ai.translate("hello", "es"), ai.draft_reply([], "en"), ai.polish("hi", "en")):
        with pytest.raises(AIUnavailable, match="needs a model"):
            await needs_a_model


DEFAULT_FALLBACK = FALLBACK_LINES["en"]


@pytest.mark.parametrize(
    ("question", "language", "hello"),
    [
        ("What is the meaning of life?", "en", None),
        ("¿Cuál es el sentido de la vida?", "es", None),
        ("Was ist der Sinn des Lebens?", "de", None),
        ("Quelle est la couleur préférée de votre directeur ?", "fr", None),
        ("Qual é o sentido da vida?", "pt", None),
        ("Qual è il senso della vita?", "it", None),
        ("¡Ayuda ya!", "es", "es"),  # too short to tell: the hello's language decides
        ("Hilfe!!", "de", "de"),
    ],
)
async def test_fallback_offers_a_teammate_in_the_customers_language(
    question: str, language: str, hello: str | None
) -> None:
    reply = await OfflineAI(KNOWLEDGE).reply(_context(question, fallback=DEFAULT_FALLBACK, language=hello))
    assert reply.text == FALLBACK_LINES[language] and not reply.escalates


@pytest.mark.parametrize(
    ("language", "yes", "no"),
    [
        ("en", "Yes please", "No thanks"),
        ("es", "Sí, por favor", "No, gracias"),
        ("de", "Ja, gerne", "Nein danke"),
        ("fr", "Oui, volontiers", "Non merci"),
        ("pt", "Sim, por favor", "Não, obrigado"),
        ("it", "Sì, grazie", "No grazie"),
    ],
)
async def test_a_yes_to_the_offer_escalates_and_a_no_keeps_the_bot(language: str, yes: str, no: str) -> None:
    ai = OfflineAI(KNOWLEDGE)
    offer = (TranscriptLine("customer", "Carla", "?"), TranscriptLine("bot", "Assistant", FALLBACK_LINES[language]))
    accepted = await ai.reply(_context(yes, before=offer, fallback=DEFAULT_FALLBACK, language=language))
    assert accepted.escalate_reason == ACCEPTED_OFFER_REASON
    declined = await ai.reply(_context(no, before=offer, fallback=DEFAULT_FALLBACK, language=language))
    assert not declined.escalates and declined.text == DECLINED_LINES[language]


async def test_an_old_offer_is_not_answered_after_a_teammate_spoke() -> None:
    since = (
        TranscriptLine("bot", "Assistant", DEFAULT_FALLBACK),
        TranscriptLine("agent", "Ana", "Done! Anything else?"),
        TranscriptLine("system", "", "AI replies allowed again"),
    )
    reply = await OfflineAI(KNOWLEDGE).reply(_context("ok thanks", before=since))
    assert not reply.escalates


async def test_a_no_that_asks_for_a_person_escalates() -> None:
    offer = (TranscriptLine("bot", "Assistant", DEFAULT_FALLBACK),)
    reply = await OfflineAI(KNOWLEDGE).reply(_context("No, I want a human", before=offer))
    assert reply.escalates and reply.escalate_reason != ACCEPTED_OFFER_REASON


async def test_a_yes_without_an_offer_is_not_an_escalation() -> None:
    ai = OfflineAI(KNOWLEDGE)
    answered = (TranscriptLine("bot", "Assistant", "Orders ship within 2 working days; delivery takes 3 to 5 days."),)
    reply = await ai.reply(_context("yes", before=answered, fallback=DEFAULT_FALLBACK))
    assert not reply.escalates
    # The team's own fallback line is an offer too; a yes after it escalates.
    custom = (TranscriptLine("bot", "Assistant", "Hmm, no idea. Want a human?"),)
    reply = await ai.reply(_context("ok", before=custom, fallback="Hmm, no idea. Want a human?"))
    assert reply.escalate_reason == ACCEPTED_OFFER_REASON


async def test_a_new_question_after_the_offer_is_answered() -> None:
    offer = (TranscriptLine("bot", "Assistant", DEFAULT_FALLBACK),)
    reply = await OfflineAI(KNOWLEDGE).reply(_context("How long does shipping take?", before=offer))
    assert reply.text is not None and reply.text.startswith("Orders ship")


async def test_extra_phrases_from_the_settings_ask_for_a_person() -> None:
    plain = OfflineAI(KNOWLEDGE)
    team = OfflineAI(KNOWLEDGE, extra_human_phrases=["Beam me up", "ich will zum Chef"])
    assert not (await plain.reply(_context("beam me up please"))).escalates
    assert (await team.reply(_context("beam me up please"))).escalates
    assert (await team.reply(_context("Ich will zum Chef!"))).escalates
    assert not (await team.reply(_context("beaming"))).escalates


def test_summary_leaves_out_bot_lines_in_another_language() -> None:
    from inbox_tui.ai.interface import TranscriptLine
    from inbox_tui.ai.offline import extractive_summary

    summary = extractive_summary(
        [
            TranscriptLine("customer", "Julien", "Bonjour, ma roue arrière est arrivée voilée"),
            TranscriptLine(
                "bot", "Assistant", "I'm not sure about that one. Would you like me to connect you with a teammate?"
            ),
            TranscriptLine("customer", "Julien", "Oui, je veux parler à un conseiller"),
        ]
    )
    assert summary.language == "fr"
    assert "not sure" not in summary.summary and "conseiller" in summary.summary


@pytest.mark.parametrize(
    "question", ["How long does shipping take?", "I want to talk to a person", "no thanks", "¿Hola?"]
)
def test_offline_reply_never_suspends(question: str) -> None:
    """The bot loop arms no timeout around the offline AI's answer (no timeout could cut
    short a coroutine that never waits): this holds only while ``reply`` never awaits."""
    coroutine = OfflineAI(KNOWLEDGE).reply(_context(question))
    with pytest.raises(StopIteration) as finished:
        coroutine.send(None)  # runs to its end in one step, or it would yield here
    assert finished.value.value.text or finished.value.value.escalates
