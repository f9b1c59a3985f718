"""The bot loop: every stored customer message in a conversation whose AI is on gets a
reply from the AI interface, or the model's decision to escalate to a human.

Replies run in background tasks, one at a time per conversation (so each sees the
thread as it was), never in the path of the customer's frames. The node that stored a
customer message answers it, so several nodes never answer one message twice.
A reply that was being generated when a teammate took over is dropped by the core
(``record_bot_reply`` re-checks the AI switch under the conversation's row lock).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from inbox_tui.ai.factory import build_offline_ai
from inbox_tui.ai.interface import AIBackend, BotContext, BotReply, TranscriptLine
from inbox_tui.ai.knowledge import KnowledgeBase
from inbox_tui.ai.phrasebook import answer_to_offer
from inbox_tui.channel.escalation_worker import EscalationWorker
from inbox_tui.channel.tasks import cancel_and_wait
from inbox_tui.core.conversations import get_conversation, record_bot_reply, transcript
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import Author, ConversationStatus, TicketSource
from inbox_tui.runtime import Runtime

log = logging.getLogger(__name__)

#: How much of the thread the model sees.
TRANSCRIPT_LINES = 40
BOT_NAME = "Assistant"


@dataclass(frozen=True)
class CustomerLine:
    message_id: int
    text: str
    ai_seems_on: bool
    #: The conversation's language as the customer's socket knows it (hello or detection).
    language: str | None = None


class BotLoop:
    def __init__(self, runtime: Runtime, escalations: EscalationWorker,
                 on_commit: Callable[[], None] = lambda: None) -> None:
        self.runtime = runtime
        self.escalations = escalations
        self.on_commit = on_commit
        settings = runtime.settings
        # A Markdown file or a folder of them, reindexed when the files change.
        self.knowledge = KnowledgeBase(settings.bot.knowledge_file)
        # When the model is absent, slow or broken, the customer still gets an answer:
        # the offline bot's (knowledge, human requests, the fallback message).
        self.fallback_ai: AIBackend = (
            runtime.ai if not runtime.ai.has_model else build_offline_ai(settings)
        )
        self._pending: dict[int, deque[CustomerLine]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}

    def customer_message(self, conversation_id: int, message_id: int, text: str = "", *,
                         ai_seems_on: bool = False, language: str | None = None) -> None:
        """Answer this stored customer message (in the background, in order).

        ``ai_seems_on``: the customer's socket last heard that the bot answers. The
        offline bot then replies from ``text`` alone, without reading the thread (the
        AI switch is checked again, under the row lock, when the reply is stored)."""
        line = CustomerLine(message_id, text, ai_seems_on, language)
        self._pending.setdefault(conversation_id, deque()).append(line)
        if conversation_id not in self._workers:
            task = asyncio.create_task(self._serve(conversation_id), name=f"bot-{conversation_id}")
            self._workers[conversation_id] = task

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    async def _serve(self, conversation_id: int) -> None:
        queue = self._pending[conversation_id]
        try:
            while queue:
                line = queue.popleft()
                try:
                    await self._answer(conversation_id, line)
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - one failed answer must not stop the loop
                    log.exception("answering message %s in conversation %s failed", line.message_id, conversation_id)
        finally:
            self._workers.pop(conversation_id, None)
            self._pending.pop(conversation_id, None)

    async def _answer(self, conversation_id: int, line: CustomerLine) -> None:
        runtime = self.runtime
        if (not runtime.ai.has_model and line.ai_seems_on and line.text
                and answer_to_offer(line.text) is None):
            # The offline bot answers the last message alone: nothing to read first
            # (a yes or no may answer its offer of a teammate: that needs the thread).
            context = self._context([TranscriptLine(Author.CUSTOMER, "", line.text)], line.language)
        else:
            context = await self._read_context(conversation_id, line.message_id)
            if context is None:
                return
        reply = await self._ask(context)
        if reply.escalates:
            result = await escalate(runtime.store, conversation_id, source=TicketSource.ESCALATION,
                                    reason=reply.escalate_reason, settings=runtime.escalation)
            self.on_commit()
            if result.created:
                self.escalations.finish(result.ticket_id)
            return
        if reply.text:
            stored = await record_bot_reply(runtime.store, conversation_id, reply.text, name=BOT_NAME)
            if stored is None:
                log.info("bot reply in conversation %s dropped: a teammate has it now", conversation_id)
            else:
                self.on_commit()

    async def _read_context(self, conversation_id: int, message_id: int) -> BotContext | None:
        """The thread as it stood when the customer wrote this message; None when the
        AI is off for the conversation (the model is not even asked)."""
        async with self.runtime.store.read() as session:
            conversation = await get_conversation(session, conversation_id)
            if not conversation.ai_enabled or conversation.status != ConversationStatus.LIVE:
                return None
            lines = await transcript(session, conversation_id, limit=TRANSCRIPT_LINES)
        return self._context([TranscriptLine(m.author, m.name, m.text) for m in lines if m.id <= message_id],
                             conversation.language)

    def _context(self, lines: list[TranscriptLine], language: str | None) -> BotContext:
        bot = self.runtime.settings.bot
        question = next((line.text for line in reversed(lines) if line.author == Author.CUSTOMER), "")
        return BotContext(
            instructions=bot.instructions,
            knowledge=self.knowledge.search(question),
            escalation_triggers=list(bot.escalation_triggers),
            fallback_message=bot.fallback_message,
            transcript=lines,
            language=language,
        )

    async def _ask(self, context: BotContext) -> BotReply:
        ai = self.runtime.ai
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancel that
            # lands as the reply arrives, and stop() would then wait for the whole queue.
            async with asyncio.timeout(self.runtime.settings.ai.timeout):
                return await ai.reply(context)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - absent, slow or broken model
            if ai is self.fallback_ai:
                raise
            log.warning("the model did not answer (%s); the offline bot answers instead", error)
            return await self.fallback_ai.reply(context)

    async def wait_idle(self) -> None:
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def stop(self) -> None:
        await cancel_and_wait(list(self._workers.values()))
        self._workers.clear()
        self._pending.clear()
