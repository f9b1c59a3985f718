"""The bot's outbox: customer messages it owes an answer, held by workers under leases.

``record_customer_message`` writes the row in the message's own transaction when the
bot answers the conversation, so an acked message is an owed one; the transaction that
stores the answer (``record_bot_reply``) or the escalation (``escalate``) removes it,
and so does a takeover or hand-back, which makes every answer in flight stale.

The node that stored a message answers it from memory and holds it for one lease from
``created_at`` without writing anything; a worker still busy with it renews the lease.
A row whose lease ran out (its node died, or stopped and released it) is claimed by
the next sweep of any node.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import and_, delete, or_, select, update

from inbox_tui.core.conversations import OwedWork
from inbox_tui.core.models import OwedReply
from inbox_tui.core.store import Store, retry_conflicts


@retry_conflicts
async def claim_expired(store: Store, lease: timedelta, limit: int = 50) -> list[OwedWork]:
    """Take the owed replies whose holder's lease ran out, oldest first, for ``lease``."""
    now = store.now()
    async with store.write() as session:
        rows = (
            await session.scalars(
                select(OwedReply)
                .where(
                    or_(
                        and_(OwedReply.lease_until.is_(None), OwedReply.created_at <= now - lease),
                        OwedReply.lease_until <= now,
                    )
                )
                .order_by(OwedReply.message_id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            row.lease_until = now + lease
        return [OwedWork(row.conversation_id, row.message_id, row.created_at) for row in rows]


@retry_conflicts
async def renew(store: Store, message_ids: Sequence[int], lease: timedelta) -> None:
    """This worker still has these in hand. Rows locked right now are skipped: a write
    group is settling them (and a group takes several rows, in its own order, so waiting
    for them here could deadlock); one that is still owed after it is renewed next round."""
    if not message_ids:
        return
    unlocked = (
        select(OwedReply.message_id)
        .where(OwedReply.message_id.in_(list(message_ids)))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    async with store.write() as session:
        await session.execute(
            update(OwedReply).where(OwedReply.message_id.in_(unlocked)).values(lease_until=store.now() + lease)
        )


@retry_conflicts
async def release(store: Store, message_ids: Sequence[int]) -> None:
    """Give these back at once (a node that stops), for the next sweep of any node."""
    if not message_ids:
        return
    async with store.write() as session:
        await session.execute(
            update(OwedReply)
            .where(OwedReply.message_id.in_(list(message_ids)))
            .values(lease_until=OwedReply.created_at)
        )


@retry_conflicts
async def settle(store: Store, message_id: int) -> None:
    """Nothing is owed for this message any more (the AI is off for its conversation)."""
    async with store.write() as session:
        await session.execute(delete(OwedReply).where(OwedReply.message_id == message_id))


async def pending(store: Store) -> list[int]:
    """The message ids still owed an answer (tests, diagnostics)."""
    async with store.read() as session:
        return list(await session.scalars(select(OwedReply.message_id).order_by(OwedReply.message_id)))
