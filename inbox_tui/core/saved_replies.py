"""Saved replies (canned responses) for the whole team, stored in the database.

A reply has a shortcut (what a teammate types after ``/`` in the composer), a title, a
body with placeholders (``{customer.name}``, ``{agent.name}``, ``{ticket.number}``) and
optional versions per language; the version in the customer's language is used when
there is one, else the default (no language). Everything here works offline.

Markdown import uses the knowledge file's form: each ``## Title`` starts a reply, a
``Shortcut:`` line names it, an optional ``Language:`` line makes it a language version,
and the rest is the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core.models import SavedReply
from inbox_tui.core.store import NotFound, Store, StoreError

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
PLACEHOLDERS = ("customer.name", "agent.name", "ticket.number")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FIELD = re.compile(r"^(Shortcut|Language):\s*(.*?)\s*$", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
MAX_BODY = 10_000


@dataclass(frozen=True)
class Reply:
    shortcut: str
    title: str
    body: str
    language: str = ""  # empty: the default version


def _shortcut(value: str) -> str:
    shortcut = value.strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise StoreError(f"a shortcut is letters, digits, '.', '_' or '-' (up to 64), not {value!r}")
    return shortcut


def _language(value: str | None) -> str:
    language = (value or "").strip().lower()
    if len(language) > 16 or not re.fullmatch(r"[a-z0-9-]*", language):
        raise StoreError(f"a language is a code such as 'es' or 'pt-br', not {value!r}")
    return language


def _checked(reply: Reply) -> Reply:
    title, body = " ".join(reply.title.split()), reply.body.strip()
    if not title or not body:
        raise StoreError("a saved reply needs a title and a body")
    if len(title) > 200 or len(body) > MAX_BODY:
        raise StoreError(f"a saved reply's title is at most 200 characters and its body {MAX_BODY}")
    return Reply(_shortcut(reply.shortcut), title, body, _language(reply.language))


async def save(store: Store, reply: Reply, *, replace: bool = False) -> Reply:
    """Add a reply (or, with ``replace``, add or change it): one per shortcut and language."""
    reply = _checked(reply)
    now = store.now()
    async with store.write() as session:
        row = await _row(session, reply.shortcut, reply.language)
        if row is not None and not replace:
            raise StoreError(f"/{reply.shortcut} ({reply.language or 'default'}) exists already; edit it instead")
        _put(session, row, reply, now)
    return reply


def _put(session: AsyncSession, row: SavedReply | None, reply: Reply, now: datetime) -> None:
    """Add the reply, or write it over its stored row (same shortcut and language)."""
    if row is None:
        session.add(
            SavedReply(
                shortcut=reply.shortcut,
                language=reply.language,
                title=reply.title,
                body=reply.body,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        row.title, row.body, row.updated_at = reply.title, reply.body, now


async def edit(store: Store, shortcut: str, language: str | None, *, title: str | None, body: str | None) -> Reply:
    async with store.read() as session:
        row = await _row(session, _shortcut(shortcut), _language(language))
        if row is None:
            raise NotFound(f"no saved reply /{shortcut}")
        current = _reply(row)
    changed = Reply(current.shortcut, title or current.title, body or current.body, current.language)
    return await save(store, changed, replace=True)


async def remove(store: Store, shortcut: str, language: str | None = None) -> int:
    """Remove one language version, or (no language given) the reply with all of them."""
    shortcut = _shortcut(shortcut)
    async with store.write() as session:
        query = delete(SavedReply).where(SavedReply.shortcut == shortcut)
        if language is not None:
            query = query.where(SavedReply.language == _language(language))
        removed = (await session.execute(query)).rowcount  # type: ignore[attr-defined]
    if not removed:
        raise NotFound(f"no saved reply /{shortcut}")
    return int(removed)


async def all_replies(session: AsyncSession) -> list[Reply]:
    rows = await session.scalars(select(SavedReply).order_by(SavedReply.shortcut, SavedReply.language))
    return [_reply(row) for row in rows]


async def _row(session: AsyncSession, shortcut: str, language: str) -> SavedReply | None:
    found: SavedReply | None = await session.scalar(
        select(SavedReply).where(SavedReply.shortcut == shortcut, SavedReply.language == language)
    )
    return found


def _reply(row: SavedReply) -> Reply:
    return Reply(row.shortcut, row.title, row.body, row.language)


def matching(replies: list[Reply], typed: str) -> list[Reply]:
    """The replies (one per shortcut) whose shortcut or title starts with what follows ``/``."""
    prefix = typed.lstrip("/").lower()
    seen: dict[str, Reply] = {}
    for reply in replies:
        words = [reply.shortcut, *reply.title.lower().split()]
        if any(word.startswith(prefix) for word in words):
            seen.setdefault(reply.shortcut, reply)
    return list(seen.values())


def version_for(replies: list[Reply], shortcut: str, language: str | None) -> Reply | None:
    """The version in ``language`` (``es`` also fits ``es-MX``), else the default one."""
    versions = {reply.language: reply for reply in replies if reply.shortcut == shortcut}
    wanted = (language or "").lower()
    for candidate in (wanted, wanted.split("-", 1)[0], ""):
        if candidate in versions:
            return versions[candidate]
    return next(iter(versions.values()), None)


def fill(body: str, *, customer_name: str, agent_name: str, ticket_number: int | None) -> str:
    """The placeholders filled (literally: a value is never itself expanded)."""
    values = {
        "customer.name": customer_name or "there",
        "agent.name": agent_name,
        "ticket.number": f"#{ticket_number}" if ticket_number is not None else "",
    }
    return re.sub(r"\{(customer\.name|agent\.name|ticket\.number)\}", lambda m: values[m.group(1)], body)


def parse_markdown(markdown: str) -> list[Reply]:
    """Replies from a Markdown file in the knowledge file's form (see the module doc)."""
    replies: list[Reply] = []
    title, shortcut, language = "", "", ""
    body: list[str] = []

    def flush() -> None:
        if title and shortcut and "\n".join(body).strip():
            replies.append(_checked(Reply(shortcut, title, "\n".join(body).strip(), language)))
        elif title and "\n".join(body).strip():
            raise StoreError(f"the reply {title!r} has no 'Shortcut:' line")

    for line in _COMMENT.sub("", markdown).splitlines():
        heading = _HEADING.match(line)
        if heading:
            if len(heading.group(1)) == 1:
                continue  # the document's own title
            flush()
            title, shortcut, language, body = heading.group(2), "", "", []
            continue
        field = _FIELD.match(line)
        if field and title:
            if field.group(1).lower() == "shortcut":
                shortcut = field.group(2)
            else:
                language = field.group(2)
            continue
        body.append(line)
    flush()
    return replies


async def import_markdown(store: Store, markdown: str) -> list[Reply]:
    """Add or replace every reply of the file, in one go (a broken file changes nothing)."""
    # The same shortcut and language twice in a file: the later one wins.
    replies = list({(r.shortcut, r.language): r for r in parse_markdown(markdown)}.values())
    if not replies:
        raise StoreError("no saved replies in that file ('## Title' then a 'Shortcut:' line and the body)")
    now: datetime = store.now()
    async with store.write() as session:
        for reply in replies:
            _put(session, await _row(session, reply.shortcut, reply.language), reply, now)
    return replies
