"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) via the SDK.

Only whole answers are used: a ``length`` or ``content_filter`` finish, or an answer
over the reply limit, is an ``AIError`` (the caller falls back and logs why).
Rate limits and server errors (429, 5xx, ``Retry-After``, ``x-should-retry``) are
retried by the SDK's own retry, with its jittered back-off, for as long as the call's
deadline allows.
"""

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
#: Retries of a 429 or 5xx within the deadline of one call.
MAX_RETRIES = 4
#: Finish reasons of a cut answer, never shown to anyone.
CUT_FINISHES = frozenset({"length", "content_filter"})
#: ``max_tokens`` from a limit in characters: a token is rarely under three characters.
CHARS_PER_TOKEN = 3
DEFAULT_MAX_REPLY_CHARS = 4000


def render_transcript(transcript: Sequence[TranscriptLine]) -> str:
    return "\n".join(f"{line.author} ({line.name}): {line.text}" for line in transcript)


def chat_turn(line: TranscriptLine) -> dict[str, Any]:
    """One line of the thread as the model should read it: the customer's words as the
    user, the bot's own as the assistant, and a teammate's reply (or a message the help
    desk sent) as what it is, never as the bot's own words."""
    if line.author == "customer":
        return {"role": "user", "content": line.text}
    if line.author == "bot":
        return {"role": "assistant", "content": line.text}
    if line.author == "agent":
        who = f"the human teammate {line.name}" if line.name else "a human teammate"
        return {"role": "system", "content": f"Message from {who} to the customer: {line.text}"}
    return {"role": "system", "content": f"Message the help desk sent to the customer: {line.text}"}


def escalation_reason(arguments: object) -> str:
    """The ``reason`` of an escalate call, whether the server sent its arguments as a
    JSON string (the API's form) or as an object."""
    if isinstance(arguments, (str, bytes)):
        try:
            arguments = json.loads(arguments or "{}")
        except ValueError:
            return ""
    if isinstance(arguments, dict):
        return str(arguments.get("reason") or "")
    return ""


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
        return "Knowledge: nothing in the knowledge base matches the customer's last message.\n\n" + offer
    passages = passages_as_text(context.knowledge)
    return f"Knowledge (the passages that match the customer's last message):\n{passages}\n\n{offer}"


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
        max_reply_chars: int = DEFAULT_MAX_REPLY_CHARS,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.max_reply_chars = max_reply_chars
        # The SDK retries 429 and 5xx as their headers say; the deadline below bounds it all.
        self.client = AsyncOpenAI(
            api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=MAX_RETRIES
        )

    def detect_language(self, text: str) -> str | None:
        return detect_language(text)

    async def close(self) -> None:
        """Close the SDK's connection pool on the loop that used it (left to the garbage
        collector, the SDK schedules the close on whatever loop runs then)."""
        await self.client.close()

    async def _chat(self, **kwargs: Any) -> Any:
        """One completion, retries included, within ``timeout``; its first choice."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.chat.completions.create(model=self.model, **kwargs)
        except TimeoutError as error:
            raise AIError(f"timed out after {self.timeout:g} s") from error
        except (openai.OpenAIError, ValueError) as error:
            # ValueError: the SDK raises a bare JSONDecodeError for a body that is not JSON.
            raise AIError(f"{type(error).__name__}: {' '.join(str(error).split())}") from error
        try:
            choice = response.choices[0]
            message = choice.message
        except (AttributeError, IndexError, TypeError) as error:
            raise AIError("the model returned no message") from error
        finish = getattr(choice, "finish_reason", None)
        if finish in CUT_FINISHES:
            raise AIError(f"the answer was cut off (finish_reason={finish})")
        return message

    def _whole(self, content: object) -> str:
        if not isinstance(content, str) or not content.strip():
            raise AIError("the model returned an empty message")
        if len(content.strip()) > self.max_reply_chars:
            raise AIError(f"the answer has {len(content.strip())} characters, over the limit of {self.max_reply_chars}")
        return content.strip()

    @property
    def max_tokens(self) -> int:
        return max(64, self.max_reply_chars // CHARS_PER_TOKEN)

    async def _text(self, system: str, user: str) -> str:
        message = await self._chat(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            max_tokens=self.max_tokens,
        )
        return self._whole(message.content)

    async def summarize(self, transcript: Sequence[TranscriptLine], language: str | None) -> TicketSummary:
        language_rule = (
            f"Write in the customer's language ({language})."
            if language
            else "Write in the language the customer writes in."
        )
        message = await self._chat(
            messages=[
                {
                    "role": "system",
                    "content": "Summarize this support chat for the teammate taking it over: "
                    "a subject line under 80 characters and a summary of two or three sentences. " + language_rule,
                },
                {"role": "user", "content": render_transcript(transcript)},
            ],
            response_format={"type": "json_schema", "json_schema": SUMMARY_SCHEMA},
        )
        try:
            data = json.loads(message.content or "")
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
        system += (
            f"\n\nKeep every answer under {self.max_reply_chars} characters. Messages from "
            "human teammates are theirs, not yours."
        )
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
        messages.extend(chat_turn(line) for line in context.transcript)
        message = await self._chat(
            messages=messages, tools=[escalate_tool(context.escalation_triggers)], max_tokens=self.max_tokens
        )
        for call in getattr(message, "tool_calls", None) or []:
            function = getattr(call, "function", None)
            if function is not None and getattr(function, "name", None) == ESCALATE_TOOL_NAME:
                reason = escalation_reason(getattr(function, "arguments", None))
                return BotReply(escalate_reason=reason or "The assistant asked for a human.")
        return BotReply(text=self._whole(message.content))

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
