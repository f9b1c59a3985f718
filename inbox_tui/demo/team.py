"""The demo's teammates and where their bridge tokens are kept.

A token is shown once and stored hashed, so the demo keeps the plain tokens of its own
teammates in a private file next to the demo database. A token that no longer
authenticates (the file was lost, or someone rotated it) is simply rotated again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inbox_tui.core.agents import add_agent, authenticate, rotate_token
from inbox_tui.core.private_files import read_json_object, write_private_json
from inbox_tui.core.store import NotFound, Store


@dataclass(frozen=True)
class DemoTeammate:
    handle: str
    name: str
    capacity: int
    timezone: str


#: The first one is who the demo's TUI signs in as.
DEMO_TEAM: tuple[DemoTeammate, ...] = (
    DemoTeammate("ana", "Ana Silva", 6, "Europe/Lisbon"),
    DemoTeammate("ben", "Ben Okafor", 5, "Europe/London"),
    DemoTeammate("chloe", "Chloé Martin", 5, "Europe/Paris"),
    DemoTeammate("diego", "Diego Ruiz", 4, "America/Mexico_City"),
)
DEMO_USER = DEMO_TEAM[0].handle


def _read_tokens(path: Path) -> dict[str, str]:
    return {str(k): str(v) for k, v in read_json_object(path).items() if isinstance(v, str)}


async def ensure_demo_team(store: Store, tokens_file: Path) -> dict[str, str]:
    """Create the demo teammates that do not exist yet; return a working token per handle."""
    saved = _read_tokens(tokens_file)
    tokens: dict[str, str] = {}
    for teammate in DEMO_TEAM:
        token = saved.get(teammate.handle)
        agent = await authenticate(store, token)
        if agent is not None and agent.handle == teammate.handle:
            tokens[teammate.handle] = token  # type: ignore[assignment]
            continue
        try:
            tokens[teammate.handle] = await rotate_token(store, teammate.handle)
        except NotFound:
            _, tokens[teammate.handle] = await add_agent(
                store, teammate.handle, teammate.name, capacity=teammate.capacity, timezone=teammate.timezone
            )
    if tokens != saved:
        write_private_json(tokens_file, tokens)
    return tokens
