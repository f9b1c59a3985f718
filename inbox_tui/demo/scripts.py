"""The demo's simulated customers: who they are and what they write.

Three kinds, so that every part of the inbox has something to show:

- ``question``: asks what the demo knowledge file answers; the bot replies and the
  customer leaves happy. Their conversations fill the Conversations view.
- ``human``: asks the bot for a person in so many words; the offline bot escalates
  (its multilingual "talk to a human" triggers), so a ticket appears by itself.
- ``idle``: asks something the bot cannot answer, then waits: a conversation the
  teammate can take over. They answer a teammate's replies.

Customer ids are stable, so a customer who comes back is the same requester and the
ticket pane shows their previous tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Intent(StrEnum):
    QUESTION = "question"
    HUMAN = "human"
    IDLE = "idle"


@dataclass(frozen=True)
class Persona:
    customer_id: str
    name: str
    email: str
    locale: str
    channel: str

    @property
    def language(self) -> str:
        return self.locale.split("-")[0]


@dataclass(frozen=True)
class CustomerScript:
    persona: Persona
    intent: Intent
    #: Sent one by one, each after the bot (or the handoff) answered the previous one.
    opening: tuple[str, ...]
    #: Sent one by one, each in answer to a teammate's reply.
    to_teammate: tuple[str, ...] = ()
    #: Sent when the conversation is handed back to the bot, before leaving.
    farewell: str | None = None


def _scripts(intent: Intent, *rows: tuple[Any, ...]) -> tuple[CustomerScript, ...]:
    """One script per row: ``(handle, name, locale, channel, opening[, to_teammate, farewell])``;
    the handle gives the stable customer id ``demo-<handle>`` and the email."""
    return tuple(
        CustomerScript(Persona(f"demo-{handle}", name, f"{handle}@example.com", locale, channel), intent, *lines)
        for handle, name, locale, channel, *lines in rows
    )


QUESTION_SCRIPTS = _scripts(
    Intent.QUESTION,
    (
        "emily.carter",
        "Emily Carter",
        "en-IE",
        "web",
        ("Hi! How long does shipping take to Dublin?", "And can I pay with PayPal?"),
    ),
    (
        "lucia.fernandez",
        "Lucía Fernández",
        "es-ES",
        "web",
        ("Hola, ¿cuánto tarda el envío a Sevilla?", "¿Y puedo pagar con tarjeta en cuotas?"),
    ),
    (
        "jonas.becker",
        "Jonas Becker",
        "de-DE",
        "whatsapp",
        ("Hallo, wie lange dauert die Lieferung nach München?", "Kann ich auch mit Kreditkarte bezahlen?"),
    ),
    (
        "camille.dubois",
        "Camille Dubois",
        "fr-FR",
        "web",
        (
            "Bonjour, quel est le délai de livraison pour Lyon ?",
            "Je voudrais retourner mon vélo, comment se passe le remboursement ?",
        ),
    ),
    (
        "joao.pereira",
        "João Pereira",
        "pt-PT",
        "whatsapp",
        ("Olá! Quanto tempo demora a entrega para o Porto?", "Onde posso seguir a minha encomenda?"),
    ),
    ("marco.rossi", "Marco Rossi", "it-IT", "web", ("Ciao, a che ora è aperto il negozio sabato?",)),
    ("sophie.wagner", "Sophie Wagner", "de-AT", "web", ("Wo ist mein Paket? Die Bestellung war letzte Woche.",)),
    (
        "olivia.brown",
        "Olivia Brown",
        "en-GB",
        "whatsapp",
        ("Where is my order? I haven't had a tracking email yet.", "Is the frame covered by a warranty?"),
    ),
)

HUMAN_SCRIPTS = _scripts(
    Intent.HUMAN,
    (
        "julien.moreau",
        "Julien Moreau",
        "fr-FR",
        "web",
        ("Bonjour, ma roue arrière est arrivée voilée. Je voudrais parler à un conseiller, s'il vous plaît.",),
        ("C'est la commande 47950, livrée hier.", "Parfait, merci beaucoup pour votre aide !"),
        "Merci, bonne journée !",
    ),
    (
        "carlos.ortega",
        "Carlos Ortega",
        "es-MX",
        "whatsapp",
        ("Hola, me llegó la bici con el cuadro rayado.", "Quiero hablar con una persona, por favor."),
        ("Sí, es el pedido 48213. Ahora te mando la foto.", "¡Perfecto, muchas gracias!"),
        "Gracias, hasta luego.",
    ),
    (
        "hannah.mueller",
        "Hannah Müller",
        "de-DE",
        "web",
        ("Meine Erstattung ist seit drei Wochen nicht angekommen.", "Ich möchte bitte mit einem Mitarbeiter sprechen."),
        ("Die Bestellnummer ist 48107.", "Danke, das hilft mir sehr!"),
        "Danke, tschüss!",
    ),
    (
        "beatriz.santos",
        "Beatriz Santos",
        "pt-BR",
        "whatsapp",
        ("Fui cobrada duas vezes pela mesma encomenda.", "Posso falar com uma pessoa?"),
        ("O número é 48377.", "Obrigada, resolvido!"),
        "Obrigada, tchau!",
    ),
    (
        "daniel.walker",
        "Daniel Walker",
        "en-US",
        "web",
        ("My e-bike battery stopped charging after two weeks.", "Can I talk to a human, please?"),
        ("It's order 48020. The charger light stays red.", "Brilliant, thanks a lot!"),
        "Thanks, bye!",
    ),
)

IDLE_SCRIPTS = _scripts(
    Intent.IDLE,
    (
        "noah.williams",
        "Noah Williams",
        "en-GB",
        "web",
        ("Hi, do you do group discounts for a company of 12 riders?",),
        ("That would be great, we're looking at 12 trekking bikes.", "Perfect, thank you!"),
        "Thanks again!",
    ),
    (
        "elena.garcia",
        "Elena García",
        "es-ES",
        "web",
        ("¿Hacéis descuentos para estudiantes?",),
        ("Estudio en la Universidad de Granada.", "¡Genial, gracias!"),
        "¡Gracias!",
    ),
    (
        "lukas.schneider",
        "Lukas Schneider",
        "de-CH",
        "whatsapp",
        ("Habt ihr das Modell Trekking 500 in Größe L noch auf Lager?",),
        ("Super, dann reserviert es mir bitte.", "Vielen Dank!"),
        "Danke!",
    ),
    (
        "ines.laurent",
        "Inès Laurent",
        "fr-BE",
        "web",
        ("Est-ce que vous faites des remises pour les associations cyclistes ?",),
        ("Nous sommes un club de 30 membres à Bruxelles.", "Merci, c'est parfait."),
        "Merci !",
    ),
    (
        "mariana.costa",
        "Mariana Costa",
        "pt-PT",
        "web",
        ("Vocês fazem revisões anuais às bicicletas elétricas?",),
        ("Moro em Lisboa, perto do Saldanha.", "Ótimo, obrigada!"),
        "Obrigada!",
    ),
)

ALL_SCRIPTS: tuple[CustomerScript, ...] = QUESTION_SCRIPTS + HUMAN_SCRIPTS + IDLE_SCRIPTS


def first_wave() -> tuple[CustomerScript, ...]:
    """Who arrives the moment the demo opens: one of each kind, so the inbox is never
    empty and a ticket escalated by the bot shows up within seconds."""
    return (HUMAN_SCRIPTS[0], QUESTION_SCRIPTS[0], IDLE_SCRIPTS[0], QUESTION_SCRIPTS[1], HUMAN_SCRIPTS[1])
