"""The server's event loop: uvloop where it is installed (``pip install 'inbox-tui[fast]'``),
else the standard one. Both are correct; uvloop spends less CPU per socket read and
write, which is most of a round trip outside the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_name() -> str:
    return "uvloop" if loop_factory() is not asyncio.new_event_loop else "asyncio"
