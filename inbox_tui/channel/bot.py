"""The bot loop: every stored customer message in a conversation whose AI is on gets a
reply from the AI interface, or the model's decision to escalate to a human.

What the bot owes is durable: the customer's message and its ``owed_replies`` row are
one transaction (see ``core.owed_replies``). The node that stored a message answers it
from memory, one at a time per conversation (so each answer sees the thread as it
was), never in the path of the customer's frames; a sweep picks up owed messages whose
holder died or stopped, at start and whenever a lease runs out, and one that waited
past ``owed_reply_max_age_seconds`` goes to a teammate instead.

No stale answer: an answer is stored (or its escalation made) only in the transaction
that settles its owed row, and only if the conversation is still in the epoch of the
message it answers (no takeover, escalation or hand-back since); otherwise the core
drops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from inbox_tui.ai.factory import build_offline_ai
from inbox_tui.ai.interface import AIBackend, BotContext, BotReply, TranscriptLine, describe_failure
from inbox_tui.ai.knowledge import KnowledgeBase
from inbox_tui.ai.offline import OfflineAI
from inbox_tui.ai.phrasebook import answer_to_offer
from inbox_tui.channel.escalation_worker import EscalationWorker
from inbox_tui.channel.tasks import cancel_and_wait
from inbox_tui.core import owed_replies
from inbox_tui.core.conversations import OwedWork, get_conversation, record_bot_reply, transcript
from inbox_tui.core.escalation import StaleEscalation, escalate
from inbox_tui.core.models import Author, ConversationStatus, TicketSource
from inbox_tui.runtime import Runtime

log = logging.getLogger(__name__)

#: How much of the thread is read for the model: at most this many messages, and of
#: those the newest that fit in ``HISTORY_CHARS``.
TRANSCRIPT_LINES = 40
HISTORY_CHARS = 12_000
BOT_NAME = "Assistant"
AGED_OUT_REASON = "the assistant could not answer in time"


@dataclass(frozen=True)
class CustomerLine:
    work: OwedWork
    text: str
    ai_seems_on: bool
    #: The conversation's language as the customer's socket knows it (hello or detection).
    language: str | None = None


def trim_history(lines: Sequence[TranscriptLine], max_chars: int = HISTORY_CHARS) -> list[TranscriptLine]:
    """The newest lines that fit in ``max_chars`` (the newest always), starting on a
    customer's turn so the model never reads a reply without what it answered."""
    kept: list[TranscriptLine] = []
    size = 0
    for line in reversed(lines):
        size += len(line.text)
        if kept and size > max_chars:
            break
        kept.append(line)
    kept.reverse()
    while len(kept) > 1 and kept[0].author != Author.CUSTOMER:
        kept.pop(0)
    return kept


class BotLoop:
    def __init__(self, runtime: Runtime, escalations: EscalationWorker) -> None:
        self.runtime = runtime
        self.escalations = escalations
        settings = runtime.settings
        # A Markdown file or a folder of them, reindexed when the files change.
        self.knowledge = KnowledgeBase(settings.bot.knowledge_file)
        # When the model is absent, slow or broken, the customer still gets an answer:
        # the offline bot's (knowledge, human requests, the fallback message).
        self.fallback_ai: AIBackend = runtime.ai if not runtime.ai.has_model else build_offline_ai(settings)
        self.lease = timedelta(seconds=settings.bot.reply_lease_seconds)
        self.max_age = timedelta(seconds=settings.bot.owed_reply_max_age_seconds)
        self._pending: dict[int, deque[CustomerLine]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._held: set[int] = set()  # owed message ids in this node's hands
        self._keeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sweep for owed answers now and whenever a lease may have run out, and keep
        the leases of the answers this node works on."""
        self._keeper = asyncio.create_task(self._keep(), name="bot-owed-replies")

    def customer_message(
        self,
        conversation_id: int,
        message_id: int,
        text: str = "",
        *,
        ai_seems_on: bool = False,
        language: str | None = None,
    ) -> None:
        """Answer this stored customer message (in the background, in order).

        ``ai_seems_on``: the customer's socket last heard that the bot answers. The
        offline bot then replies from ``text`` alone, without reading the thread (the
        state is checked again, under the row lock, when the reply is stored)."""
        self._enqueue(CustomerLine(OwedWork(conversation_id, message_id), text, ai_seems_on, language))

    def _enqueue(self, line: CustomerLine) -> None:
        if line.work.message_id in self._held:
            return
        self._held.add(line.work.message_id)
        conversation_id = line.work.conversation_id
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
                    await self._answer(line)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception(
                        "answering message %s in conversation %s failed", line.work.message_id, conversation_id
                    )
                self._held.discard(line.work.message_id)
        finally:
            self._workers.pop(conversation_id, None)
            self._pending.pop(conversation_id, None)

    async def _keep(self) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        store = self.runtime.store
        while True:
            try:
                await owed_replies.renew(store, sorted(self._held), self.lease)
                for work in await owed_replies.claim_expired(store, self.lease):
                    log.info(
                        "answering message %s of conversation %s, owed since %s",
                        work.message_id,
                        work.conversation_id,
                        work.created_at,
                    )
                    self._enqueue(CustomerLine(work, "", False))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the next round tries again
                log.warning("sweeping owed bot answers failed: %s", error)
            await asyncio.sleep(interval)

    async def _answer(self, line: CustomerLine) -> None:
        runtime = self.runtime
        work = line.work
        conversation_id = work.conversation_id
        if work.created_at is not None and runtime.store.now() - work.created_at > self.max_age:
            await self._escalate(work, AGED_OUT_REASON)
            return
        if not runtime.ai.has_model and line.ai_seems_on and line.text and answer_to_offer(line.text) is None:
            # The offline bot answers the last message alone: nothing to read first
            # (a yes or no may answer its offer of a teammate: that needs the thread).
            context = self._context([TranscriptLine(Author.CUSTOMER, "", line.text)], line.language)
        else:
            read = await self._read_context(conversation_id, work.message_id)
            if read is None:
                if work.created_at is not None:
                    # Found by a sweep: settle it, or every sweep would find it again.
                    await owed_replies.settle(runtime.store, work.message_id)
                return
            context = read
        reply = await self._ask(context)
        if reply.escalates:
            await self._escalate(work, reply.escalate_reason)
            return
        if reply.text:
            stored = await record_bot_reply(runtime.store, conversation_id, reply.text, name=BOT_NAME, answering=work)
            if stored is None:
                log.info(
                    "bot reply to message %s dropped: conversation %s changed hands meanwhile",
                    work.message_id,
                    conversation_id,
                )

    async def _escalate(self, work: OwedWork, reason: str | None) -> None:
        runtime = self.runtime
        try:
            result = await escalate(
                runtime.store,
                work.conversation_id,
                source=TicketSource.ESCALATION,
                reason=reason,
                settings=runtime.escalation,
                answering=work,
            )
        except StaleEscalation:
            log.info(
                "escalation for message %s dropped: conversation %s changed hands meanwhile",
                work.message_id,
                work.conversation_id,
            )
            return
        if result.created:
            self.escalations.finish(result.ticket_id)

    async def _read_context(self, conversation_id: int, message_id: int) -> BotContext | None:
        """The thread as it stood when the customer wrote this message; None when the
        AI is off for the conversation (the model is not even asked)."""
        async with self.runtime.store.read() as session:
            conversation = await get_conversation(session, conversation_id)
            if not conversation.ai_enabled or conversation.status != ConversationStatus.LIVE:
                return None
            lines = await transcript(session, conversation_id, limit=TRANSCRIPT_LINES)
        return self._context(
            trim_history([TranscriptLine(m.author, m.name, m.text) for m in lines if m.id <= message_id]),
            conversation.language,
        )

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
        timeout = self.runtime.settings.ai.timeout
        try:
            if isinstance(ai, OfflineAI):
                # It answers without awaiting anything, so no timeout could cut it short;
                # arming one per answer was 4 % of a busy server's CPU.
                return await ai.reply(context)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancel that
            # lands as the reply arrives, and stop() would then wait for the whole queue.
            async with asyncio.timeout(timeout):
                return await ai.reply(context)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if ai is self.fallback_ai:
                raise
            log.warning(
                "the model did not answer (%s); the offline bot answers instead", describe_failure(error, timeout)
            )
            return await self.fallback_ai.reply(context)

    async def wait_idle(self) -> None:
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Stop answering; what this node still owed is released at once, so the next
        node (or this one restarted) answers it without waiting for the lease."""
        await cancel_and_wait([self._keeper, *self._workers.values()])
        self._keeper = None
        self._workers.clear()
        self._pending.clear()
        held, self._held = sorted(self._held), set()
        try:
            await owed_replies.release(self.runtime.store, held)
        except Exception as error:  # noqa: BLE001 - their leases run out instead
            log.warning("releasing %d owed bot answers failed: %s", len(held), error)
