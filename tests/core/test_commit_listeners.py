"""The store runs its after-commit hook itself: every committed write, through any path,
calls the commit listeners; a rolled-back one does not. The channel's parts rely on it
(no part is handed an ``on_commit`` to call)."""

from __future__ import annotations

import inspect

import pytest

from inbox_tui.channel.bridge_endpoint import BridgeSession
from inbox_tui.channel.customer_endpoint import CustomerSession
from inbox_tui.core import conversations
from inbox_tui.core.store import NotFound, Store
from tests.conftest import both_backends


@both_backends
async def test_every_committed_write_calls_the_listeners_and_a_rollback_does_not(store: Store) -> None:
    calls: list[str] = []
    store.add_commit_listener(lambda _appended: calls.append("commit"))

    started = await conversations.start_conversation(store, channel="web", customer_id="c-1", name="Ada")
    assert calls, "an ORM write transaction committed without calling the listeners"

    calls.clear()
    await conversations.record_customer_message(store, started.conversation.id, "hello", client_id="m-1")
    assert calls, "a Core write (run_write) committed without calling the listeners"

    calls.clear()
    with pytest.raises(NotFound):  # refused inside its transaction, which rolls back
        await conversations.record_customer_message(store, 987_654, "nobody home", client_id="lost")
    with pytest.raises(RuntimeError):
        async with store.write():
            raise RuntimeError("rolled back")
    assert calls == []


async def test_a_failing_listener_does_not_stop_the_others_or_the_write(store: Store) -> None:
    heard: list[int] = []

    def broken(_appended: object) -> None:
        raise ValueError("listener bug")

    store.add_commit_listener(broken)
    store.add_commit_listener(lambda _appended: heard.append(1))
    started = await conversations.start_conversation(store, channel="web", customer_id="c-2", name="Bo")
    assert started.conversation.id and heard
    store.remove_commit_listener(broken)
    store.remove_commit_listener(broken)  # twice is harmless


def test_channel_sessions_are_not_handed_an_after_commit_hook() -> None:
    for session in (CustomerSession, BridgeSession):
        assert "on_commit" not in inspect.signature(session).parameters, session.__name__
