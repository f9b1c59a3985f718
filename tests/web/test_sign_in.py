"""Sign-in links and web sessions in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from inbox_tui.core import sign_in
from inbox_tui.core.agents import add_agent, authenticate, rotate_token
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import Agent, AgentCredential, Event
from inbox_tui.core.store import NotFound, Store
from tests.conftest import FixedClock, both_backends

IDLE = timedelta(minutes=30)


@both_backends
async def test_a_link_signs_in_once_and_only_before_it_expires(database_url: str) -> None:
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    try:
        ana, _ = await add_agent(store, "ana", "Ana")
        link = await sign_in.create_sign_in_link(store, "ana", timedelta(minutes=15))
        async with store.read() as session:  # only the hash is stored
            hashes = list(await session.scalars(select(AgentCredential.secret_hash)))
        assert link.secret not in hashes and len(hashes) == 1

        web = await sign_in.redeem_sign_in_link(store, link.secret, IDLE)
        assert web is not None and web.agent == ana
        assert await sign_in.redeem_sign_in_link(store, link.secret, IDLE) is None  # second use

        late = await sign_in.create_sign_in_link(store, "ana", timedelta(minutes=15))
        clock.advance(minutes=16)
        assert await sign_in.redeem_sign_in_link(store, late.secret, IDLE) is None
        assert await sign_in.redeem_sign_in_link(store, "not-a-link", IDLE) is None
    finally:
        await store.close()


@both_backends
async def test_racing_uses_of_one_link_get_one_session(database_url: str) -> None:
    stores = [Store(database_url) for _ in range(4)]
    try:
        await add_agent(stores[0], "ana", "Ana")
        link = await sign_in.create_sign_in_link(stores[0], "ana", timedelta(minutes=15))
        results = await asyncio.gather(*(sign_in.redeem_sign_in_link(s, link.secret, IDLE) for s in stores))
        assert sum(result is not None for result in results) == 1
    finally:
        for store in stores:
            await store.close()


@both_backends
async def test_a_session_is_a_bridge_credential_until_idle_or_signed_out(database_url: str) -> None:
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    try:
        ana, _ = await add_agent(store, "ana", "Ana")
        web = await sign_in.start_session(store, ana.id, IDLE)
        assert await authenticate(store, web.secret) == ana
        assert await sign_in.find_session(store, web.secret) == (web.id, ana)

        clock.advance(minutes=20)
        await sign_in.keep_alive(store, {web.id: clock.now}, IDLE)  # used: 30 more minutes
        clock.advance(minutes=20)
        assert await sign_in.live_sessions(store, {web.id}) == {web.id}
        clock.advance(minutes=11)
        assert await sign_in.live_sessions(store, {web.id}) == set()
        assert await authenticate(store, web.secret) is None

        again = await sign_in.start_session(store, ana.id, IDLE)
        await sign_in.end_session(store, again.id)
        assert await authenticate(store, again.secret) is None
    finally:
        await store.close()


@both_backends
async def test_rotating_or_removing_a_token_ends_sessions_and_spends_links(database_url: str) -> None:
    store = Store(database_url)
    try:
        ana, old_token = await add_agent(store, "ana", "Ana")
        ben, ben_token = await add_agent(store, "ben", "Ben")
        web = await sign_in.start_session(store, ana.id, IDLE)
        ben_web = await sign_in.start_session(store, ben.id, IDLE)
        link = await sign_in.create_sign_in_link(store, "ana", timedelta(minutes=15))

        new_token = await rotate_token(store, "ana")
        assert await authenticate(store, old_token) is None
        assert await authenticate(store, web.secret) is None
        assert await authenticate(store, new_token) == ana
        assert await sign_in.redeem_sign_in_link(store, link.secret, IDLE) is None
        assert await authenticate(store, ben_web.secret) == ben  # others untouched

        removed = await sign_in.remove_agent(store, "ben")
        assert removed == ben
        assert await authenticate(store, ben_token) is None
        assert await authenticate(store, ben_web.secret) is None
        with pytest.raises(NotFound):
            await sign_in.create_sign_in_link(store, "ben", timedelta(minutes=15))
        async with store.read() as session:
            revoked = list(
                await session.execute(
                    select(Event.agent_id, Event.payload)
                    .where(Event.kind == EventKind.AGENT_TOKEN_REVOKED)
                    .order_by(Event.id)
                )
            )
            assert [(agent_id, payload["reason"]) for agent_id, payload in revoked] == [
                (ana.id, "rotated"),
                (ben.id, "removed"),
            ]
            assert (await session.get(Agent, ben.id)).availability == "away"  # type: ignore[union-attr]
    finally:
        await store.close()
