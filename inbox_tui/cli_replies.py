"""``inbox-tui replies``: the team's saved replies, from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from inbox_tui.cli import run_with_store, settings_from
from inbox_tui.core import saved_replies
from inbox_tui.core.saved_replies import Reply
from inbox_tui.core.store import Store


@click.group("replies")
def replies() -> None:
    """Saved replies: `/shortcut` in the composer inserts one, placeholders filled."""


@replies.command("add")
@click.argument("shortcut")
@click.option("--title", required=True, help="what the completion list shows")
@click.option("--body", required=True, help="the text; {customer.name}, {agent.name}, {ticket.number} are filled in")
@click.option("--language", default="", help="a language version (such as es); none: the default version")
@click.pass_context
def replies_add(ctx: click.Context, shortcut: str, title: str, body: str, language: str) -> None:
    """Add a saved reply (or a language version of one)."""
    reply = run_with_store(
        settings_from(ctx), lambda store: saved_replies.save(store, Reply(shortcut, title, body, language))
    )
    click.echo(f"added /{reply.shortcut} ({reply.language or 'default'}): {reply.title}")


@replies.command("edit")
@click.argument("shortcut")
@click.option("--language", default="", help="the language version to change (none: the default)")
@click.option("--title", default=None)
@click.option("--body", default=None)
@click.pass_context
def replies_edit(ctx: click.Context, shortcut: str, language: str, title: str | None, body: str | None) -> None:
    """Change a saved reply's title or body."""
    if title is None and body is None:
        raise click.UsageError("say what changes: --title and/or --body")
    reply = run_with_store(
        settings_from(ctx), lambda store: saved_replies.edit(store, shortcut, language, title=title, body=body)
    )
    click.echo(f"changed /{reply.shortcut} ({reply.language or 'default'}): {reply.title}")


@replies.command("remove")
@click.argument("shortcut")
@click.option("--language", default=None, help="remove only this language version")
@click.pass_context
def replies_remove(ctx: click.Context, shortcut: str, language: str | None) -> None:
    """Remove a saved reply with all its versions (or one language version)."""
    removed = run_with_store(settings_from(ctx), lambda store: saved_replies.remove(store, shortcut, language))
    click.echo(f"removed /{shortcut.lstrip('/')} ({removed} version{'s' if removed != 1 else ''})")


@replies.command("list")
@click.pass_context
def replies_list(ctx: click.Context) -> None:
    """List the saved replies, one line per language version."""

    async def _list(store: Store) -> list[Reply]:
        async with store.read() as session:
            return await saved_replies.all_replies(session)

    found = run_with_store(settings_from(ctx), _list)
    if not found:
        click.echo("no saved replies yet: `inbox-tui replies add SHORTCUT --title … --body …`", err=True)
    for reply in found:
        body = " ".join(reply.body.split())
        click.echo(f"/{reply.shortcut:<16} {reply.language or '-':<6} {reply.title:<30} {body[:60]}")


@replies.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def replies_import(ctx: click.Context, path: Path) -> None:
    """Add or replace the replies of a Markdown file (`## Title`, `Shortcut:`, optional `Language:`, the body)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read {path}: {error}") from None
    imported = run_with_store(settings_from(ctx), lambda store: saved_replies.import_markdown(store, text))
    click.echo(f"imported {len(imported)} saved repl{'ies' if len(imported) != 1 else 'y'} from {path}")
