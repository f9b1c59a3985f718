"""Saved replies: stored for the team (SQLite and PostgreSQL), the CLI round trip,
Markdown import, placeholders and the language version."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from inbox_tui.cli import main
from inbox_tui.core import saved_replies
from inbox_tui.core.saved_replies import Reply
from inbox_tui.core.store import NotFound, Store, StoreError
from tests.conftest import both_backends

MARKDOWN = """# Our saved replies

<!-- a comment is not a reply -->

## Refund on its way
Shortcut: refund
Hi {customer.name}, your refund for {ticket.number} is on its way. — {agent.name}

## Reembolso en camino
Shortcut: refund
Language: es
Hola {customer.name}, tu reembolso de {ticket.number} está en camino. — {agent.name}

## Opening hours
Shortcut: hours
We answer Monday to Friday, 9:00–18:00.
"""


async def _all(store: Store) -> list[Reply]:
    async with store.read() as session:
        return await saved_replies.all_replies(session)


@both_backends
async def test_add_edit_remove_and_versions(store: Store) -> None:
    await saved_replies.save(store, Reply("/Thanks", "Thank you", "Thanks, {customer.name}!"))
    await saved_replies.save(store, Reply("thanks", "Gracias", "¡Gracias, {customer.name}!", "es"))
    with pytest.raises(StoreError, match="exists already"):
        await saved_replies.save(store, Reply("thanks", "Again", "x"))
    with pytest.raises(StoreError, match="shortcut"):
        await saved_replies.save(store, Reply("two words", "t", "b"))

    await saved_replies.edit(store, "thanks", None, title="Thanks a lot", body=None)
    replies = await _all(store)
    assert [(r.shortcut, r.language, r.title) for r in replies] == [
        ("thanks", "", "Thanks a lot"),
        ("thanks", "es", "Gracias"),
    ]
    assert saved_replies.version_for(replies, "thanks", "es-MX").title == "Gracias"  # type: ignore[union-attr]
    assert saved_replies.version_for(replies, "thanks", "de").title == "Thanks a lot"  # type: ignore[union-attr]

    assert await saved_replies.remove(store, "thanks", "es") == 1
    assert await saved_replies.remove(store, "thanks") == 1
    with pytest.raises(NotFound):
        await saved_replies.remove(store, "thanks")


@both_backends
async def test_markdown_import_adds_and_replaces(store: Store) -> None:
    imported = await saved_replies.import_markdown(store, MARKDOWN)
    assert [(r.shortcut, r.language) for r in imported] == [("refund", ""), ("refund", "es"), ("hours", "")]
    await saved_replies.import_markdown(store, MARKDOWN.replace("9:00–18:00", "8:00–20:00"))
    replies = await _all(store)
    assert len(replies) == 3
    assert "8:00–20:00" in saved_replies.version_for(replies, "hours", None).body  # type: ignore[union-attr]
    with pytest.raises(StoreError, match="Shortcut"):
        await saved_replies.import_markdown(store, "## No shortcut\nsome text\n")
    assert len(await _all(store)) == 3  # a broken file changes nothing


def test_placeholders_are_filled_literally_and_completion_matches() -> None:
    body = "Hi {customer.name}, {ticket.number} is with {agent.name}. {unknown} stays."
    filled = saved_replies.fill(body, customer_name="{agent.name} [b]", agent_name="Ana", ticket_number=12)
    assert filled == "Hi {agent.name} [b], #12 is with Ana. {unknown} stays."
    replies = saved_replies.parse_markdown(MARKDOWN)
    assert [r.shortcut for r in saved_replies.matching(replies, "/re")] == ["refund"]
    assert [r.shortcut for r in saved_replies.matching(replies, "/open")] == ["hours"]  # by a title word
    assert saved_replies.matching(replies, "/zzz") == []


def test_the_cli_round_trip(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inbox.db'}"
    env = {"INBOX_DB_URL": url}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0

    def run(*args: str) -> str:
        result = runner.invoke(main, ["replies", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assert "added /thanks (default)" in run("add", "thanks", "--title", "Thank you", "--body", "Thanks!")
    assert "added /thanks (es)" in run("add", "thanks", "--title", "Gracias", "--body", "¡Gracias!", "--language", "es")
    assert "changed /thanks (default): Thanks a lot" in run("edit", "thanks", "--title", "Thanks a lot")
    listed = run("list")
    assert "/thanks" in listed and "Thanks a lot" in listed and "Gracias" in listed
    markdown = tmp_path / "replies.md"
    markdown.write_text(MARKDOWN, encoding="utf-8")
    assert "imported 3 saved replies" in run("import", str(markdown))
    assert "removed /thanks (2 versions)" in run("remove", "thanks")
    assert "/thanks" not in run("list")
    failed = runner.invoke(main, ["replies", "remove", "nope"], env=env)
    assert failed.exit_code != 0 and "no saved reply /nope" in failed.output
