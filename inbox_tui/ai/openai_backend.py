"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) via the SDK."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import openai
from openai import AsyncOpenAI

from inbox_tui.ai.interface import (
    AIError,
    BotContext,
    BotReply,
    TicketSummary,
    TranscriptLine,
)
from inbox_tui.ai.knowledge import passages_as_text
from inbox_tui.ai.language import detect_language
from inbox_tui.ai.phrasebook import ACCEPTED_OFFER_REASON

SUMMARY_SCHEMA: dict[str, Any] = {
    "name": "ticket_summary",
    "strict": True,
    "schema": {
        "type": "object",
        "properties": {
            "subject": {"type": "string", "description": "One line, under 80 characters."},
            "summary": {"type": "string", "description": "Two or three sentences."},
            "language": {"type": "string", "description": "ISO 639-1 code of the customer's language."},
        },
        "required": ["subject", "summary", "language"],
        "additionalProperties": False,
    },
}

ESCALATE_TOOL_NAME = "escalate_to_human"


def render_transcript(transcript: Sequence[TranscriptLine]) -> str:
    return "\n".join(f"{line.author} ({line.name}): {line.text}" for line in transcript)


def escalate_tool(triggers: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": ESCALATE_TOOL_NAME,
            "description": "Hand the conversation to a human teammate. Call it when: "
            + "; ".join(triggers)
            + ". Also call it when you offered to connect the customer with a teammate and "
            f"they accept (in any language), with the reason {ACCEPTED_OFFER_REASON!r}; "
            "if they decline, keep helping them yourself.",
            "parameters": {
                "type": "object",
                "properties": {"reason": {"type": "string", "description": "Why a human is needed."}},
                "required": ["reason"],
            },
        },
    }


def knowledge_prompt(context: BotContext) -> str:
    """The passages retrieved for the customer's last message, and what to do with none."""
    offer = (
        f"If you cannot help from this knowledge, say so and offer a teammate: {context.fallback_message} "
        "If the customer then accepts, call escalate_to_human; if they decline, keep helping."
    )
    if not context.knowledge:
        return ("Knowledge: nothing in the knowledge base matches the customer's last message.\n\n"
                + offer)
    return f"Knowledge (the passages that match the customer's last message):\n{passages_as_text(context.knowledge)}\n\n{offer}"


class OpenAIBackend:
    name = "openai"
    has_model = True

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        timeout: float,
    ) -> None:
        self.model = model
        self.timeout = timeout
        # Retries would stretch a timeout far past what the caller configured.
        self.client = AsyncOpenAI(
            api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=0
        )

    def detect_language(self, text: str) -> str | None:
        return detect_language(text)

    async def _chat(self, **kwargs: Any) -> Any:
        try:
            return await asyncio.wait_for(
                self.client.chat.completions.create(model=self.model, **kwargs), self.timeout
            )
        except (openai.OpenAIError, asyncio.TimeoutError, ValueError) as error:
            # ValueError: the SDK raises a bare JSONDecodeError for a body that is not JSON.
            raise AIError(f"{type(error).__name__}: {error}") from error

    async def _text(self, system: str, user: str) -> str:
        response = await self._chat(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}]
        )
        try:
            content = response.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as error:
            raise AIError("the model returned no message") from error
        if not isinstance(content, str) or not content.strip():
            raise AIError("the model returned an empty message")
        return content.strip()

    async def summarize(
        self, transcript: Sequence[TranscriptLine], language: str | None
    ) -> TicketSummary:
        language_rule = (
            f"Write in the customer's language ({language})."
            if language
            else "Write in the language the customer writes in."
        )
        response = await self._chat(
            messages=[
                {
                    "role": "system",
                    "content": "Summarize this support chat for the teammate taking it over: "
                    "a subject line under 80 characters and a summary of two or three sentences. "
                    + language_rule,
                },
                {"role": "user", "content": render_transcript(transcript)},
            ],
            response_format={"type": "json_schema", "json_schema": SUMMARY_SCHEMA},
        )
        try:
            data = json.loads(response.choices[0].message.content or "")
            subject = str(data["subject"]).strip()
            summary = str(data["summary"]).strip()
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            raise AIError(f"the summary is not the JSON asked for: {error}") from error
        if not subject or not summary:
            raise AIError("the summary has an empty subject or body")
        detected = data.get("language") if isinstance(data.get("language"), str) else None
        return TicketSummary(subject[:300], summary, language or (detected or None))

    async def reply(self, context: BotContext) -> BotReply:
        system = f"{context.instructions}\n\n" + knowledge_prompt(context)
        if context.language:
            system += f"\n\nThe customer's language is {context.language!r}: answer in it."
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
        for line in context.transcript:
            role = "user" if line.author == "customer" else "assistant"
            messages.append({"role": role, "content": line.text})
        response = await self._chat(messages=messages, tools=[escalate_tool(context.escalation_triggers)])
        try:
            message = response.choices[0].message
        except (AttributeError, IndexError, TypeError) as error:
            raise AIError("the model returned no message") from error
        for call in message.tool_calls or []:
            if getattr(call, "function", None) and call.function.name == ESCALATE_TOOL_NAME:
                try:
                    reason = str(json.loads(call.function.arguments or "{}").get("reason") or "")
                except (ValueError, AttributeError):
                    reason = ""
                return BotReply(escalate_reason=reason or "The assistant asked for a human.")
        if not message.content or not message.content.strip():
            raise AIError("the model returned an empty reply")
        return BotReply(text=message.content.strip())

    async def translate(self, text: str, target_language: str) -> str:
        return await self._text(
            f"Translate the user's text into the language with ISO code {target_language!r}. "
            "Answer with the translation only.",
            text,
        )

    async def draft_reply(
        self, transcript: Sequence[TranscriptLine], language: str | None, notes: Sequence[str] = ()
    ) -> str:
        context = render_transcript(transcript)
        if notes:
            context += "\n\nInternal notes (do not quote):\n" + "\n".join(notes)
        return await self._text(
            "Draft the support teammate's next reply to the customer: friendly, short, concrete, "
            f"in the customer's language ({language or 'as the customer writes'}). Answer with the reply only.",
            context,
        )

    async def polish(self, draft: str, language: str | None) -> str:
        return await self._text(
            "Polish this support reply: fix grammar and tone, keep the meaning and the language. "
            "Answer with the polished reply only.",
            draft,
        )
