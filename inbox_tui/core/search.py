"""One search over everything: message bodies, internal notes, customers' names and
emails, ticket subjects and summaries.

The database's own full-text engine does the work (FTS5 on SQLite, ``tsvector`` with GIN
on PostgreSQL; see ``search_schema``): its tokenizer, its ranking (``bm25`` /
``ts_rank``) and its snippets. What a user types is always text, never query syntax:
on SQLite each whitespace-separated piece becomes an FTS5 string (a quoted phrase, the
documented way to match text literally), on PostgreSQL the whole input goes through
``plainto_tsquery``, which has no operators. Every piece must match (AND).

Ranking is over the newest ``CANDIDATES`` matches of each kind: a help desk's newest
matches are the ones worth ranking, and walking a popular word's million postings to
rank them all would take far longer than a keystroke. FTS5 hands its matches over in
rowid order; PostgreSQL's GIN index has no order, so how its newest matches are found
is chosen to cost little whether a word is common or nowhere (``_pg_candidates_sql``).
One statement finds, ranks and describes the hits (customer, channel, ticket state);
one more per kind cuts the snippets of the hits shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core.models import Conversation, UTCDateTime
from inbox_tui.core.search_schema import PG_CONFIG, SEARCHED_BY_TABLE, SearchedTable

CANDIDATES = 200
LIMIT = 50
#: PostgreSQL: the newest rows of each table read before the GIN index is asked (see
#: ``_pg_candidates_sql``): a word in one row of 50 finds its candidates there.
PG_WINDOW = 10_000
#: PostgreSQL, a search filtered by conversation or ticket: the conversations walked
#: (most recently active first) before the GIN index is asked (``_pg_filtered_walk``).
PG_FILTERED_CONVERSATIONS = 100
# Private-use characters mark the match in a snippet: the snippet is plain text that is
# split into spans here, never markup, so customer text cannot style or inject anything.
MARK_START = "\ue000"
MARK_END = "\ue001"
SNIPPET_WORDS = 16
_PG_HEADLINE = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, MinWords=6, "
    'MaxFragments=1, FragmentDelimiter=" … "'
)


class HitKind(StrEnum):
    MESSAGE = "message"
    NOTE = "note"
    CUSTOMER = "customer"
    TICKET = "ticket"


class StatusFilter(StrEnum):
    """What the status filter can ask for: any open ticket, no ticket (a bot
    conversation), or one ticket status (``TicketStatus`` values)."""

    OPEN = "open"
    NO_TICKET = "no_ticket"


@dataclass(frozen=True)
class SearchFilters:
    status: str | None = None  # a StatusFilter or a TicketStatus value
    assignee_id: int | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class SearchHit:
    kind: HitKind
    ref_id: int  # the message, note, contact or ticket that matched
    conversation_id: int
    ticket_id: int | None  # the conversation's latest ticket, if it has one
    created_at: datetime
    score: float
    customer_name: str = ""
    customer_email: str | None = None
    channel: str = ""
    ticket_status: str | None = None
    assignee: str | None = None
    # The snippet as (text, is_match) spans of literal text.
    spans: tuple[tuple[str, bool], ...] = field(default=())

    @property
    def message_id(self) -> int | None:
        """The message to open the conversation at, for a message hit."""
        return self.ref_id if self.kind is HitKind.MESSAGE else None

    @property
    def snippet(self) -> str:
        return "".join(part for part, _ in self.spans)


@dataclass(frozen=True)
class _Source:
    kind: HitKind
    searched: SearchedTable
    conversation: str  # SQL for the hit's conversation id, over ``src``
    ticket: str  # SQL for the hit's ticket id, over ``src`` and ``c``
    created: str
    sqlite_score: str  # bm25 column weights
    snippet_document: str  # the text PostgreSQL's ts_headline cuts the snippet from
    # PostgreSQL: the table grows without bound (see ``_pg_candidates_sql``).
    walk_newest: bool = False


_LATEST_TICKET = "(SELECT max(lt.id) FROM tickets lt WHERE lt.conversation_id = c.id)"
_SOURCES = (
    _Source(
        HitKind.MESSAGE,
        SEARCHED_BY_TABLE["messages"],
        "src.conversation_id",
        _LATEST_TICKET,
        "src.created_at",
        "",
        "src.text",
        walk_newest=True,
    ),
    _Source(
        HitKind.NOTE,
        SEARCHED_BY_TABLE["timeline_events"],
        "(SELECT nt.conversation_id FROM tickets nt WHERE nt.id = src.ticket_id)",
        "src.ticket_id",
        "src.created_at",
        "",
        "src.text",
    ),
    _Source(
        HitKind.CUSTOMER,
        SEARCHED_BY_TABLE["contacts"],
        "(SELECT max(cc.id) FROM conversations cc WHERE cc.contact_id = src.id)",
        _LATEST_TICKET,
        "src.created_at",
        "",
        "src.name || ' ' || coalesce(src.email, '')",
    ),
    _Source(
        HitKind.TICKET,
        SEARCHED_BY_TABLE["tickets"],
        "src.conversation_id",
        "src.id",
        "src.created_at",
        ", 2.0, 1.0",  # a word in the subject counts twice as much as one in the summary
        "src.subject || ' — ' || src.summary",
    ),
)
_SOURCE_BY_KIND = {source.kind: source for source in _SOURCES}

# PostgreSQL, for the rest of the search's transaction (one round trip): a search is a
# short query, and starting parallel workers costs more than they save (and takes cores
# from every other session). The driver prepares the statement; after five runs
# PostgreSQL may switch to a generic plan that knows neither the words nor the bounds
# (the LIMITs), and so neither stops a walk early nor keeps the GIN index out of it.
_PG_SEARCH_SETTINGS = (
    "SELECT set_config('max_parallel_workers_per_gather', '0', true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true)"
)


def fts5_query(query: str) -> str:
    """The user's words as FTS5 strings: each piece quoted (a quote inside doubled), so
    ``*``, ``-``, ``OR``, ``NEAR``, ``(`` and ``:`` are text that the tokenizer sees."""
    return " ".join('"' + piece.replace('"', '""') + '"' for piece in query.split())


@dataclass(frozen=True)
class _Filter:
    """A filter as SQL: ``on_conversation`` over ``c`` (the conversation) and ``t`` (its
    ticket), ``on_created`` with ``{created}`` for the searched row's time."""

    on_conversation: str = ""
    on_created: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def sql(self) -> str:
        return self.on_conversation + self.on_created


def _filters(filters: SearchFilters) -> _Filter:
    terms: list[str] = []
    created: list[str] = []
    params: dict[str, Any] = {}
    if filters.status == StatusFilter.OPEN:
        terms.append("t.status != 'closed'")
    elif filters.status == StatusFilter.NO_TICKET:
        terms.append("t.id IS NULL")
    elif filters.status:
        terms.append("t.status = :status")
        params["status"] = filters.status
    if filters.assignee_id is not None:
        terms.append("t.assignee_id = :assignee_id")
        params["assignee_id"] = filters.assignee_id
    if filters.channel:
        terms.append("c.channel = :channel")
        params["channel"] = filters.channel
    if filters.since is not None:
        created.append("{created} >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        created.append("{created} < :until")
        params["until"] = filters.until
    return _Filter("".join(f" AND {term}" for term in terms), "".join(f" AND {term}" for term in created), params)


def _select_sql(source: _Source, score: str, rows: str, *, lateral: bool = False) -> str:
    """One kind's hits as the union's rows; ``rows`` names the searched rows ``src``.
    ``lateral``: the conversation and ticket are looked up row by row (a LIMIT keeps
    PostgreSQL from turning them into a hash join), so the rows keep their order and a
    LIMIT over them stops as soon as it has enough."""
    columns = (
        f"SELECT '{source.kind}' AS kind, src.id AS ref_id, c.id AS conversation_id, t.id AS ticket_id, "
        f"{source.created} AS created_at, {score} AS score FROM {rows} "
    )
    if not lateral:
        return columns + (
            f"JOIN conversations c ON c.id = {source.conversation} LEFT JOIN tickets t ON t.id = {source.ticket}"
        )
    return columns + (
        f"CROSS JOIN LATERAL (SELECT * FROM conversations cl WHERE cl.id = {source.conversation} LIMIT 1) c "
        f"LEFT JOIN LATERAL (SELECT * FROM tickets tl WHERE tl.id = {source.ticket} LIMIT 1) t ON true"
    )


def _sqlite_candidates_sql(source: _Source, where: _Filter) -> str:
    """FTS5 hands over its matches newest first (rowid order) and stops at the bound."""
    s = source.searched
    rows = f"{s.fts} JOIN {s.table} src ON src.id = {s.fts}.rowid"
    select = _select_sql(source, f"-bm25({s.fts}{source.sqlite_score})", rows)
    filters = where.sql.replace("{created}", source.created)
    return f"{select} WHERE {s.fts} MATCH :match{filters} ORDER BY {s.fts}.rowid DESC LIMIT :candidates"


def _pg_candidates_sql(source: _Source, where: _Filter) -> str:
    """The newest matches, at a cost that does not hang on the planner's guess of how
    common the words are (far off for words that come together, and blind to a word's
    absence). The GIN index finds every match, sorted after (no index orders by
    ``created_at``, so never a walk through the whole table in id order hoping to meet a
    match). For messages, which grow without bound, short walks are tried first, each
    only when the one before holds fewer than wanted, and the GIN index last (then few
    match): see ``_pg_newest_walk`` and ``_pg_filtered_walk``."""
    s = source.searched
    query = f"plainto_tsquery('{PG_CONFIG}', :query)"
    score = f"ts_rank(src.search_vector, {query})"
    filters = where.sql.replace("{created}", source.created)
    matches = f"src.search_vector @@ {query}" + (f" AND src.{s.only_when}" if s.only_when else "")
    everywhere = (
        f"{_select_sql(source, score, f'{s.table} src')} WHERE {matches}{filters} "
        f"ORDER BY {source.created} DESC, src.id DESC LIMIT :candidates"
    )
    if not source.walk_newest:
        return everywhere
    # Each walk: its CTEs, the one with its candidates, and when they are enough.
    walks = [_pg_newest_walk(source, score, f"{matches}{filters}")]
    if where.on_conversation:
        walks.append(_pg_filtered_walk(source, where, score, matches))
    ctes = ", ".join(cte for ctes, _, _ in walks for cte in ctes)
    parts: list[str] = []
    not_before = ""  # no walk before this one was enough
    for _, name, enough in walks:
        parts.append(f"SELECT * FROM {name} WHERE {not_before}({enough})")
        not_before += f"NOT ({enough}) AND "
    parts.append(f"SELECT * FROM ({everywhere}) everywhere WHERE {not_before}true")
    return f"WITH {ctes} " + " UNION ALL ".join(parts)


def _pg_newest_walk(source: _Source, score: str, matches: str) -> tuple[list[str], str, str]:
    """The newest ``PG_WINDOW`` rows read backwards: a common word's candidates are
    there. The LIMIT fences the window (a filter is not pushed into it, it stays a short
    walk); the LIMIT over the walk stops it once it has enough."""
    newest = f"(SELECT * FROM {source.searched.table} ORDER BY id DESC LIMIT :window) src"
    recent = (
        f"{_select_sql(source, score, newest, lateral=True)} WHERE {matches} ORDER BY src.id DESC LIMIT :candidates"
    )
    return [f"recent AS MATERIALIZED ({recent})"], "recent", "(SELECT count(*) FROM recent) >= :candidates"


def _pg_filtered_walk(source: _Source, where: _Filter, score: str, matches: str) -> tuple[list[str], str, str]:
    """A filter on the conversation or its ticket (status, assignee, channel) may leave
    too few matches among the newest rows (closed tickets are old ones): this walk goes
    through the conversations that pass it, most recently active first, taking each
    one's newest matches (the index on conversation and id), and stops at the bound or
    after ``PG_FILTERED_CONVERSATIONS`` conversations. Only when those hold too few is
    the GIN index asked; it is not when the walk went through every conversation."""
    s = source.searched
    walked = (
        "walked AS MATERIALIZED (SELECT c.id AS conversation_id, t.id AS ticket_id FROM conversations c "
        # Every conversation's latest ticket in one pass (a hash join), not one look-up each.
        "LEFT JOIN (SELECT conversation_id, max(id) AS id FROM tickets GROUP BY conversation_id) latest "
        "ON latest.conversation_id = c.id LEFT JOIN tickets t ON t.id = latest.id "
        f"WHERE true{where.on_conversation} ORDER BY c.last_activity_at DESC, c.id DESC LIMIT :conversations)"
    )
    created = where.on_created.replace("{created}", source.created)
    newest = (
        f"(SELECT * FROM {s.table} src WHERE src.conversation_id = w.conversation_id AND {matches}{created} "
        "ORDER BY src.id DESC LIMIT :candidates)"
    )
    by_conversation = (
        f"SELECT '{source.kind}' AS kind, src.id AS ref_id, w.conversation_id, w.ticket_id, "
        f"{source.created} AS created_at, {score} AS score FROM walked w CROSS JOIN LATERAL {newest} src "
        "LIMIT :candidates"
    )
    enough = "(SELECT count(*) FROM by_conversation) >= :candidates OR (SELECT count(*) FROM walked) < :conversations"
    return [walked, f"by_conversation AS MATERIALIZED ({by_conversation})"], "by_conversation", enough


def _search_sql(dialect: str, where: _Filter, kinds: Sequence[HitKind]) -> str:
    """The best hits, with what a result row shows (customer, channel, ticket state)."""
    candidates = _sqlite_candidates_sql if dialect == "sqlite" else _pg_candidates_sql
    sources = [_SOURCE_BY_KIND[kind] for kind in kinds]
    parts = " UNION ALL ".join(f"SELECT * FROM ({candidates(source, where)}) k{i}" for i, source in enumerate(sources))
    order = "score DESC, created_at DESC, ref_id DESC"
    return (
        "SELECT hits.kind, hits.ref_id, hits.conversation_id, hits.ticket_id, hits.created_at, hits.score, "
        "c.channel, ct.name AS customer_name, ct.email AS customer_email, t.status AS ticket_status, "
        "a.name AS assignee "
        f"FROM (SELECT * FROM ({parts}) ranked ORDER BY {order} LIMIT :limit) hits "
        "JOIN conversations c ON c.id = hits.conversation_id JOIN contacts ct ON ct.id = c.contact_id "
        "LEFT JOIN tickets t ON t.id = hits.ticket_id LEFT JOIN agents a ON a.id = t.assignee_id "
        f"ORDER BY {', '.join('hits.' + term for term in order.split(', '))}"
    )


async def search(
    session: AsyncSession,
    query: str,
    filters: SearchFilters | None = None,
    *,
    limit: int = LIMIT,
    kinds: Sequence[HitKind] = tuple(HitKind),
) -> list[SearchHit]:
    """The best ``limit`` hits for ``query``, best first; any text is a valid query."""
    filters = filters or SearchFilters()
    query = query.replace("\x00", " ")  # C strings end there: never part of a word
    if not query.split() or not kinds:
        return []
    dialect = (await session.connection()).dialect.name
    where = _filters(filters)
    params = dict(where.params)
    statement = text(_search_sql(dialect, where, kinds)).columns(created_at=UTCDateTime())
    for name in ("since", "until"):
        if name in params:
            statement = statement.bindparams(bindparam(name, type_=UTCDateTime()))
    params |= {"candidates": CANDIDATES, "limit": limit}
    params |= (
        {"match": fts5_query(query)}
        if dialect == "sqlite"
        else {
            "query": query,
            "window": PG_WINDOW,
            "conversations": PG_FILTERED_CONVERSATIONS,
        }
    )
    if dialect != "sqlite":
        await session.execute(text(_PG_SEARCH_SETTINGS))
    rows = (await session.execute(statement, params)).all()
    found = [(HitKind(row.kind), row.ref_id) for row in rows]
    snippets = await (_sqlite_snippets if dialect == "sqlite" else _pg_snippets)(session, found, query)
    return [
        SearchHit(
            kind=HitKind(row.kind),
            ref_id=row.ref_id,
            conversation_id=row.conversation_id,
            ticket_id=row.ticket_id,
            created_at=row.created_at,
            score=float(row.score),
            customer_name=row.customer_name,
            customer_email=row.customer_email,
            channel=row.channel,
            ticket_status=row.ticket_status,
            assignee=row.assignee,
            spans=spans_of(snippets.get((row.kind, row.ref_id)) or ""),
        )
        for row in rows
    ]


async def _sqlite_snippets(
    session: AsyncSession, hits: list[tuple[HitKind, int]], query: str
) -> dict[tuple[str, int], str]:
    """FTS5's snippets for the hits only, one statement for every kind. The rowid range
    keeps FTS5 to the hits' stretch of the index; ``+rowid IN`` is a plain filter (as an
    index constraint, SQLite would run one MATCH per id, each far slower)."""
    parts: list[str] = []
    params: dict[str, Any] = {"start": MARK_START, "end": MARK_END, "match": fts5_query(query)}
    for index, (kind, ids) in enumerate(_ids_by_kind(hits).items()):
        fts = _SOURCE_BY_KIND[kind].searched.fts
        wanted = ", ".join(str(int(ref_id)) for ref_id in ids)
        parts.append(
            f"SELECT * FROM (SELECT '{kind}' AS kind, rowid AS id, "
            f"snippet({fts}, -1, :start, :end, '…', {SNIPPET_WORDS}) AS snippet FROM {fts} "
            f"WHERE {fts} MATCH :match AND rowid BETWEEN :low{index} AND :high{index} AND +rowid IN ({wanted}))"
        )
        params |= {f"low{index}": ids[0], f"high{index}": ids[-1]}
    return await _snippets_of(session, parts, params)


async def _pg_snippets(
    session: AsyncSession, hits: list[tuple[HitKind, int]], query: str
) -> dict[tuple[str, int], str]:
    """ts_headline for the hits only (it re-parses each document), one statement for
    every kind."""
    parts: list[str] = []
    params: dict[str, Any] = {"query": query, "options": _PG_HEADLINE}
    for index, (kind, ids) in enumerate(_ids_by_kind(hits).items()):
        source = _SOURCE_BY_KIND[kind]
        parts.append(
            f"SELECT '{kind}' AS kind, src.id, ts_headline('{PG_CONFIG}', {source.snippet_document}, "
            f"plainto_tsquery('{PG_CONFIG}', :query), :options) AS snippet "
            f"FROM {source.searched.table} src WHERE src.id = ANY(:ids{index})"
        )
        params[f"ids{index}"] = ids
    return await _snippets_of(session, parts, params)


def _ids_by_kind(hits: list[tuple[HitKind, int]]) -> dict[HitKind, list[int]]:
    ids: dict[HitKind, list[int]] = {}
    for kind, ref_id in hits:
        ids.setdefault(kind, []).append(ref_id)
    return {kind: sorted(found) for kind, found in ids.items()}


async def _snippets_of(session: AsyncSession, parts: list[str], params: dict[str, Any]) -> dict[tuple[str, int], str]:
    if not parts:
        return {}
    rows = await session.execute(text(" UNION ALL ".join(parts)), params)
    return {(row.kind, row.id): row.snippet for row in rows}


def spans_of(snippet: str) -> tuple[tuple[str, bool], ...]:
    """Split a marked snippet into (text, is_match) spans on one line."""
    flat = " ".join(snippet.split())
    spans: list[tuple[str, bool]] = []
    for index, chunk in enumerate(flat.split(MARK_START)):
        if index == 0:
            if chunk:
                spans.append((chunk.replace(MARK_END, ""), False))
            continue
        match, _, rest = chunk.partition(MARK_END)
        if match:
            spans.append((match, True))
        if rest:
            spans.append((rest.replace(MARK_END, ""), False))
    return tuple(spans)


async def channels(session: AsyncSession) -> list[str]:
    """The channels conversations came from, for the channel filter."""
    return sorted(await session.scalars(select(Conversation.channel).distinct()))
