"""The full-text search schema: what the ``0005_search_lifecycle`` migration builds.

SQLite: one FTS5 external-content table per searched table, kept in step by triggers,
so every write (through any code path) updates the index in its own transaction.
PostgreSQL: a stored, generated ``tsvector`` column per searched table with a GIN
index; the database computes it with the row, in the row's own transaction.

Neither is described by the ORM models (SQLAlchemy cannot declare a virtual table or a
column that exists on one backend only), so the schema comparison skips them by name.
The ``0005_search_lifecycle`` migration runs these statements: a change to them needs a
new migration (and a SQLite table rebuilt by a later migration loses its triggers: the
test ``test_search_triggers_are_in_place_at_head`` says so).
"""

from __future__ import annotations

from dataclasses import dataclass

# The text-search configuration on PostgreSQL: no stemming, like FTS5's unicode61, since
# one inbox holds many languages and a stemmer for one would mangle the others.
PG_CONFIG = "simple"
SEARCH_COLUMN = "search_vector"
FTS_TOKENIZER = "unicode61 remove_diacritics 2"


@dataclass(frozen=True)
class SearchedTable:
    table: str  # the content table
    fts: str  # the SQLite FTS5 table
    columns: tuple[str, ...]  # the indexed text columns, in FTS column order
    pg_vector: str  # the PostgreSQL generated column's expression
    only_when: str | None = None  # a row filter: only these rows are searchable

    @property
    def pg_index(self) -> str:
        return f"ix_{self.table}_search"


def _vector(column: str) -> str:
    return f"to_tsvector('{PG_CONFIG}'::regconfig, coalesce({column}, ''))"


SEARCHED = (
    SearchedTable("messages", "search_messages", ("text",), _vector("text")),
    # Internal notes only: system events are the app's own words, not worth finding.
    SearchedTable(
        "timeline_events",
        "search_notes",
        ("text",),
        f"CASE WHEN kind = 'note' THEN {_vector('text')} END",
        only_when="kind = 'note'",
    ),
    SearchedTable(
        "contacts",
        "search_contacts",
        ("name", "email"),
        f"{_vector('name')} || {_vector('email')}",
    ),
    SearchedTable(
        "tickets",
        "search_tickets",
        ("subject", "summary"),
        f"setweight({_vector('subject')}, 'A') || setweight({_vector('summary')}, 'B')",
    ),
)
SEARCHED_BY_TABLE = {searched.table: searched for searched in SEARCHED}


def is_search_object(name: str | None) -> bool:
    """True for the tables, columns and indexes of the search schema (FTS5's own shadow
    tables are named after their table, ``search_messages_data`` and so on)."""
    if not name:
        return False
    return name.startswith("search_") or name == SEARCH_COLUMN or name.endswith("_search")


def sqlite_statements() -> list[str]:
    statements: list[str] = []
    for s in SEARCHED:
        cols = ", ".join(s.columns)
        new_cols = ", ".join(f"new.{c}" for c in s.columns)
        old_cols = ", ".join(f"old.{c}" for c in s.columns)
        new_when = f" WHEN new.{s.only_when}" if s.only_when else ""
        old_when = f" WHEN old.{s.only_when}" if s.only_when else ""
        new_where = f" WHERE new.{s.only_when}" if s.only_when else ""
        old_where = f" WHERE old.{s.only_when}" if s.only_when else ""
        statements += [
            f"CREATE VIRTUAL TABLE {s.fts} USING fts5({cols}, content='{s.table}', content_rowid='id', "
            f"tokenize='{FTS_TOKENIZER}')",
            f"CREATE TRIGGER {s.fts}_insert AFTER INSERT ON {s.table}{new_when} BEGIN "
            f"INSERT INTO {s.fts}(rowid, {cols}) VALUES (new.id, {new_cols}); END",
            f"CREATE TRIGGER {s.fts}_delete AFTER DELETE ON {s.table}{old_when} BEGIN "
            f"INSERT INTO {s.fts}({s.fts}, rowid, {cols}) VALUES ('delete', old.id, {old_cols}); END",
            # Only a change of an indexed column touches the index (tickets are updated often).
            # One trigger, so the old entry always goes before the new one comes in.
            f"CREATE TRIGGER {s.fts}_update AFTER UPDATE OF {cols} ON {s.table} BEGIN "
            f"INSERT INTO {s.fts}({s.fts}, rowid, {cols}) SELECT 'delete', old.id, {old_cols}{old_where}; "
            f"INSERT INTO {s.fts}(rowid, {cols}) SELECT new.id, {new_cols}{new_where}; END",
            # Index what the database already holds.
            f"INSERT INTO {s.fts}(rowid, {cols}) SELECT id, {cols} FROM {s.table}"
            + (f" WHERE {s.only_when}" if s.only_when else ""),
        ]
    return statements


def sqlite_triggers() -> set[str]:
    return {f"{s.fts}_{event}" for s in SEARCHED for event in ("insert", "delete", "update")}


def sqlite_drop_statements() -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS {name}" for name in sorted(sqlite_triggers())]
    return statements + [f"DROP TABLE IF EXISTS {s.fts}" for s in SEARCHED]


def postgresql_statements() -> list[str]:
    statements: list[str] = []
    for s in SEARCHED:
        where = f" WHERE {s.only_when}" if s.only_when else ""
        statements += [
            f"ALTER TABLE {s.table} ADD COLUMN {SEARCH_COLUMN} tsvector GENERATED ALWAYS AS ({s.pg_vector}) STORED",
            f"CREATE INDEX {s.pg_index} ON {s.table} USING gin ({SEARCH_COLUMN}){where}",
        ]
    return statements


def postgresql_drop_statements() -> list[str]:
    statements: list[str] = []
    for s in SEARCHED:
        statements += [
            f"DROP INDEX IF EXISTS {s.pg_index}",
            f"ALTER TABLE {s.table} DROP COLUMN IF EXISTS {SEARCH_COLUMN}",
        ]
    return statements


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: the schema comparison (and autogenerate) leaves
    the search schema alone."""
    return not is_search_object(name)
