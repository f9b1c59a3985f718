"""A hello's time zone through the real server: kept on the customer, ignored when
unknown (a bad one is refused with the other bad frames in test_customer_input)."""

from __future__ import annotations

from sqlalchemy import select

from inbox_tui.client.customer import CustomerClient
from inbox_tui.core.models import Contact
from inbox_tui.core.store import Store
from tests.channel.conftest import StartChannel
from tests.conftest import both_backends


async def stored_zone(store: Store, customer_id: str) -> str | None:
    async with store.read() as session:
        return await session.scalar(select(Contact.time_zone).where(Contact.external_id == customer_id))


@both_backends
async def test_the_hellos_time_zone_is_kept_and_an_unknown_one_ignored(start_channel: StartChannel) -> None:
    channel = await start_channel()
    async with CustomerClient(channel.url, customer={"id": "z1", "time_zone": "America/Sao_Paulo"}) as chat:
        await chat.send("Olá")
    assert await stored_zone(channel.store, "z1") == "America/Sao_Paulo"
    async with CustomerClient(channel.url, customer={"id": "z2", "time_zone": "Mars/Olympus_Mons"}) as chat:
        await chat.send("hello")  # still served: the customer is told UTC times
    assert await stored_zone(channel.store, "z2") is None
