"""A PostgreSQL write group whose works each begin with one statement: those statements
sent together, one round trip for all of a kind, instead of one round trip each.

Under chat load a write group (``Store.run_write``) is mostly customer messages and the
bot's answers, each one statement on PostgreSQL (``conversations``), and each statement
costs a round trip: a write to the server's socket and a wait, most of the chat
server's time. A work marked :func:`pipelined` names its first statement
(:class:`FirstStep`); when every work of a group is so marked, the group:

1. locks all its conversations in id order in one statement (the store's lock order
   between groups, which the regrouping below would otherwise break);
2. runs the works in waves: the first work of each conversation, then the second, …
   (a conversation's own writes keep their order);
3. in a wave, sends the first statements of one kind at once (``Prepared.first_each``:
   asyncpg's pipelined ``fetchmany``), then calls each work with its row
   (``first_row=``) for the rest of its steps, in order.

Anything unexpected (a statement that gives no row, a work that raises) fails the
group as before: its transaction is rolled back and each work runs again on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ARRAY, BigInteger, any_, bindparam, select
from sqlalchemy.engine import Connection

from inbox_tui.core.models import Conversation, table_of
from inbox_tui.core.prepared import Prepared

#: ``first_row``'s default: the work runs its first statement itself.
NOT_RUN: Any = object()


class FirstStep(NamedTuple):
    """A work's first statement, its values, and the conversation whose lock it takes."""

    statement: Prepared
    values: dict[str, Any]
    conversation_id: int


Work = tuple[Callable[..., Any], tuple[Any, ...]]
W = TypeVar("W", bound=Callable[..., Any])

_CONVERSATIONS = table_of(Conversation)
# ``= ANY(array)`` rather than an expanding ``IN``: one statement text for any number
# of ids, run straight on the driver (an expanding list goes through SQLAlchemy's
# slower path, compiled again for each length).
_LOCK_IN_ORDER = Prepared(
    select(_CONVERSATIONS.c.id)
    .where(_CONVERSATIONS.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .order_by(_CONVERSATIONS.c.id)
    .with_for_update(key_share=True)
)


def pipelined(first_step: Callable[..., FirstStep | None]) -> Callable[[W], W]:
    """Marks a work ``work(connection, *args, first_row=...)``: ``first_step(*args)`` is
    its first statement (None: not this time), and given ``first_row`` the work takes
    that statement's row instead of running it."""

    def mark(work: W) -> W:
        work.first_step = first_step  # type: ignore[attr-defined]
        return work

    return mark


def run_pipelined(connection: Connection, works: Sequence[Work]) -> list[Any] | None:
    """Each work's result, run as the module doc says; None (nothing run) unless the
    group has two works or more and each has a first step."""
    if len(works) < 2 or not all(hasattr(work, "first_step") for work, _ in works):
        return None  # before building any step: most groups that mix flows end here
    steps: list[FirstStep] = []
    for work, args in works:
        step = work.first_step(*args)  # type: ignore[attr-defined]
        if step is None:
            return None
        steps.append(step)
    _LOCK_IN_ORDER.all(connection, {"ids": sorted({step.conversation_id for step in steps})})
    waves: list[list[int]] = []
    seen: Counter[int] = Counter()
    for index, step in enumerate(steps):
        nth = seen[step.conversation_id]
        seen[step.conversation_id] += 1
        if nth == len(waves):
            waves.append([])
        waves[nth].append(index)
    results: list[Any] = [None] * len(works)
    for wave in waves:
        kinds: dict[Prepared, list[int]] = {}
        for index in wave:
            kinds.setdefault(steps[index].statement, []).append(index)
        for statement, indexes in kinds.items():
            rows = statement.first_each(connection, [steps[index].values for index in indexes])
            for index, row in zip(indexes, rows, strict=True):
                work, args = works[index]
                results[index] = work(connection, *args, first_row=row)
    return results
