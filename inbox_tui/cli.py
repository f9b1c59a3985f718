"""The ``inbox-tui`` command line."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from inbox_tui import collector
from inbox_tui.core.database_url import DatabaseURLError
from inbox_tui.core.store import Store, StoreError
from inbox_tui.logs import LEVELS, log_file, setup_logging
from inbox_tui.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def settings_from(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj["settings"]
    return settings


def log_level_from(ctx: click.Context) -> str | None:
    level: str | None = ctx.find_root().obj.get("log_level")
    return level


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine and turn the errors a user can fix into one clear line."""
    try:
        return asyncio.run(factory())  # type: ignore[arg-type]
    except (StoreError, SettingsError, DatabaseURLError) as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot reach the database: {error}") from None
    except Exception as error:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError):
            # SQLAlchemy appends the SQL and a link on further lines: keep the first, and
            # drop its "(driver.ErrorClass) " prefix, so the user reads one clear line.
            first = (str(error).strip().splitlines() or [error.__class__.__name__])[0]
            message = re.sub(r"^\([\w.]+\)\s*", "", first).strip() or error.__class__.__name__
            raise click.ClickException(f"database error: {message}") from None
        raise


def run_with_store(settings: Settings, work: Callable[[Store], Awaitable[T]], *, build_ai: bool = True) -> T:
    """Open the store, check it is at this program's schema (never migrating it: only
    ``serve`` and ``db upgrade`` do), run ``work`` on it and close it, with
    ``run_async``'s one-line errors. ``build_ai``: the AI backend is built first, which
    installs the status lines a flow may post to customers (see ``open_runtime``)."""
    from inbox_tui.core.migrate import check_database_exists, check_schema
    from inbox_tui.runtime import open_runtime

    async def _run() -> T:
        check_database_exists(settings.database_url)
        runtime = await open_runtime(settings, migrate=False, build_ai=build_ai)
        try:
            await check_schema(runtime.store)
            return await work(runtime.store)
        finally:
            await runtime.close()

    return run_async(_run)


def check_database(settings: Settings) -> None:
    """Refuse to start on a database that is missing or at another schema (one clear line)."""

    async def _check(_store: Store) -> None:
        return None

    # Nothing is written, so no status line is needed: building the AI (and importing its
    # language detector) here cost `inbox-tui open` about 25 ms before its first screen.
    run_with_store(settings, _check, build_ai=False)


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    # Not click.version_option: that asks importlib.metadata at import, on every start.
    if value and not ctx.resilient_parsing:
        from inbox_tui import __version__

        click.echo(f"inbox-tui, version {__version__}")
        ctx.exit()


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file (TOML).")
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default=None,
    help="How much to log (default: warning; info for the demo's inbox).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None, log_level: str | None) -> None:
    """A keyboard-first help-desk inbox for teams whose customers talk to an AI chatbot.

    Without a command, opens the inbox (same as `inbox-tui open`)."""
    from pathlib import Path

    try:
        settings = load_settings(Path(config_path) if config_path else None)
    except (SettingsError, DatabaseURLError) as error:
        raise click.ClickException(f"configuration: {error}") from None
    ctx.obj = {"settings": settings, "log_level": log_level}
    if ctx.invoked_subcommand not in (None, "open"):
        collector.resume(collect=False)  # the inbox resumes it once its first screen is painted
    if ctx.invoked_subcommand is None:
        ctx.invoke(open_inbox)


@main.command("status")
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the configuration in use and what the database holds."""
    from inbox_tui.core import views
    from inbox_tui.core.database_url import parse_database_url

    settings = settings_from(ctx)

    async def _status(store: Store) -> dict[Any, int]:
        async with store.read() as session:
            return await views.counts(session, None)

    counts = run_with_store(settings, _status)
    url = parse_database_url(settings.database_url).render_as_string(hide_password=True)
    click.echo(f"database:  {url}")
    click.echo(f"config:    {settings.config_path or '(defaults; no config file)'}")
    ai = "model " + settings.ai.model if settings.ai.uses_model else "offline (no key, no network)"
    click.echo(f"AI:        {ai}")
    click.echo(f"server:    ws://{settings.server.host}:{settings.server.port}")
    for view, count in counts.items():
        if view.value not in ("on_you", "mentions"):
            click.echo(f"{view.label + ':':<15}{count}")


@main.group("config")
def config() -> None:
    """Where the settings come from, what is in use, and a starting file."""


@config.command("path")
@click.pass_context
def config_path_command(ctx: click.Context) -> None:
    """Where inbox-tui looks for its configuration and keeps its files."""
    from inbox_tui.logs import log_file
    from inbox_tui.settings import config_dir, data_dir, default_config_path

    settings = settings_from(ctx)
    looked_at = settings.config_path or default_config_path()
    state = "in use" if settings.config_path else "not found; defaults and environment only"
    click.echo(f"config file:  {looked_at} ({state})")
    click.echo(f"themes:       {config_dir() / 'themes'}")
    click.echo(f"data:         {data_dir()}")
    click.echo(f"inbox log:    {log_file('inbox')}")
    click.echo(f"web log:      {log_file('web')}")


@config.command("show")
@click.pass_context
def config_show(ctx: click.Context) -> None:
    """The settings in use (defaults, file and environment merged), secrets masked."""
    import os

    from inbox_tui.config_file import render_settings
    from inbox_tui.settings import environment_variables

    settings = settings_from(ctx)
    click.echo(f"# from {settings.config_path or 'defaults and environment (no config file)'}")
    overriding = [name for name in environment_variables() if os.environ.get(name)]
    if overriding:
        click.echo(f"# overridden by the environment: {', '.join(overriding)}")
    click.echo(render_settings(settings), nl=False)


@config.command("init")
@click.option(
    "--path",
    "target",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write it (default: the config file's usual place).",
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
def config_init(target: str | None, force: bool) -> None:
    """Write a commented config.toml with every setting at its default."""
    from pathlib import Path

    from inbox_tui.config_file import starting_file
    from inbox_tui.settings import default_config_path

    path = Path(target) if target else default_config_path()
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists already (--force replaces it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(starting_file(), encoding="utf-8")
    path.chmod(0o600)  # it is where an API key or a token would go
    click.echo(f"wrote {path}")


@main.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create the database or bring its schema up to date (`serve` does it at start too)."""
    from inbox_tui.core.migrate import current_revision, upgrade

    async def _upgrade() -> str | None:
        store = Store(settings_from(ctx).database_url)
        try:
            await upgrade(store, revision)
            return await current_revision(store)
        finally:
            await store.close()

    click.echo(f"database at revision {run_async(_upgrade)}")


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Print the schema revision of the database."""
    from inbox_tui.core.database_url import sqlite_file
    from inbox_tui.core.migrate import current_revision

    missing = sqlite_file(settings_from(ctx).database_url)
    if missing is not None and not missing.exists():
        click.echo(f"(no database at {missing} yet)")
        return

    async def _current() -> str | None:
        store = Store(settings_from(ctx).database_url)
        try:
            return await current_revision(store)
        finally:
            await store.close()

    click.echo(run_async(_current) or "(empty database)")


@main.group("agents")
def agents() -> None:
    """Teammates: add, edit, list, shifts, and their bridge tokens."""


def _shift_specs(_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Any]:
    """Parse repeated "DAYS START-END" options into weekly shifts, with a clear error."""
    from inbox_tui.core.shifts import ShiftError, parse_shift_specs

    try:
        return parse_shift_specs(values)
    except ShiftError as error:
        raise click.BadParameter(str(error), param=param) from None


SHIFT_HELP = (
    'A weekly shift in the teammate\'s timezone, e.g. "mon-fri 09:00-17:00", '
    '"sat,sun 10:00-14:00", "fri 22:00-06:00" (crosses midnight), "daily 00:00-24:00". Repeatable.'
)


@agents.command("add")
@click.argument("handle")
@click.option("--name", default="", help="Display name (defaults to the handle).")
@click.option(
    "--capacity",
    default=5,
    show_default=True,
    type=click.IntRange(min=0),
    help="Open tickets the rules may give this teammate at most.",
)
@click.option("--timezone", "tz", default="UTC", show_default=True, help="IANA name, e.g. Europe/Lisbon.")
@click.option("--shift", "shifts", multiple=True, callback=_shift_specs, help=SHIFT_HELP)
@click.pass_context
def agents_add(ctx: click.Context, handle: str, name: str, capacity: int, tz: str, shifts: list[Any]) -> None:
    """Add a teammate and print their bridge token (shown once).

    Without --shift the teammate has no shifts and counts as always on shift."""
    from inbox_tui.core.agents import add_agent
    from inbox_tui.core.team import set_shifts

    settings = settings_from(ctx)

    async def _add(store: Store) -> tuple[Any, str]:
        agent, token = await add_agent(store, handle, name or handle, capacity=capacity, timezone=tz)
        if shifts:
            await set_shifts(store, agent.handle, shifts, assignment=settings.assignment)
        return agent, token

    agent, token = run_with_store(settings, _add)
    click.echo(f"added {agent.label}")
    click.echo(f"token: {token}")
    click.echo("Keep the token: the inbox sends it to the server (INBOX_TOKEN or [tui] token).", err=True)


@agents.command("edit")
@click.argument("handle")
@click.option("--name", default=None)
@click.option("--capacity", default=None, type=click.IntRange(min=0))
@click.option("--timezone", "tz", default=None, help="IANA name, e.g. Europe/Lisbon.")
@click.option("--availability", default=None, type=click.Choice(["available", "away"]))
@click.pass_context
def agents_edit(
    ctx: click.Context, handle: str, name: str | None, capacity: int | None, tz: str | None, availability: str | None
) -> None:
    """Change a teammate's name, capacity, timezone or availability."""
    from inbox_tui.core.team import set_availability, update_agent

    settings = settings_from(ctx)
    if name is None and capacity is None and tz is None and availability is None:
        raise click.UsageError("nothing to change: give --name, --capacity, --timezone or --availability")

    async def _edit(store: Store) -> Any:
        agent = await update_agent(
            store, handle, name=name, capacity=capacity, timezone=tz, assignment=settings.assignment
        )
        if availability is not None:
            await set_availability(store, agent.id, availability, assignment=settings.assignment)
        return agent

    click.echo(f"updated {run_with_store(settings, _edit).label}")


@agents.command("shifts")
@click.argument("handle")
@click.option(
    "--set", "replace_with", multiple=True, callback=_shift_specs, help="Replace all shifts with these. " + SHIFT_HELP
)
@click.option("--add", "add", multiple=True, callback=_shift_specs, help="Add shifts to the existing ones.")
@click.option("--clear", is_flag=True, help="Remove every shift (the teammate is then always on shift).")
@click.pass_context
def agents_shifts(ctx: click.Context, handle: str, replace_with: list[Any], add: list[Any], clear: bool) -> None:
    """Show or change a teammate's weekly shifts (in their own timezone).

    \b
    inbox-tui agents shifts ana
    inbox-tui agents shifts ana --set "mon-fri 09:00-17:00" --set "sat 10:00-14:00"
    inbox-tui agents shifts ana --add "sun 22:00-06:00"
    inbox-tui agents shifts ana --clear"""
    from inbox_tui.core.agents import get_agent
    from inbox_tui.core.models import Agent
    from inbox_tui.core.shifts import describe_shifts
    from inbox_tui.core.team import get_shifts, set_shifts

    settings = settings_from(ctx)
    if sum(map(bool, (replace_with, add, clear))) > 1:
        raise click.UsageError("use one of --set, --add or --clear")

    async def _shifts(store: Store) -> tuple[Any, list[Any], str]:
        agent = await get_agent(store, handle)
        if replace_with or add or clear:
            new = list(replace_with) if replace_with else []
            if add:
                new = await get_shifts(store, agent.handle) + list(add)
            await set_shifts(store, agent.handle, new, assignment=settings.assignment)
        async with store.read() as session:
            zone = (await session.get(Agent, agent.id)).timezone  # type: ignore[union-attr]
        return agent, await get_shifts(store, agent.handle), zone

    agent, shifts, zone = run_with_store(settings, _shifts)
    click.echo(f"{agent.label} ({zone}): {describe_shifts(shifts)}")


@agents.command("token")
@click.argument("handle")
@click.pass_context
def agents_token(ctx: click.Context, handle: str) -> None:
    """Issue a new bridge token for a teammate (the old one stops working, and their open
    bridges and browser sessions end at once)."""
    from inbox_tui.core.agents import rotate_token

    click.echo(f"token: {run_with_store(settings_from(ctx), lambda store: rotate_token(store, handle))}")


@agents.command("link")
@click.argument("handle")
@click.option(
    "--url",
    "base_url",
    default=None,
    help="The web address teammates open (default: [web] public_url, else http://127.0.0.1:8000).",
)
@click.pass_context
def agents_link(ctx: click.Context, handle: str, base_url: str | None) -> None:
    """Make a one-time sign-in link for `inbox-tui web` (short-lived, works once, shown once)."""
    from datetime import timedelta

    from inbox_tui.core.sign_in import create_sign_in_link

    settings = settings_from(ctx)
    valid_for = timedelta(minutes=settings.web.sign_in_link_minutes)
    link = run_with_store(settings, lambda store: create_sign_in_link(store, handle, valid_for))
    base = (base_url or settings.web.public_url or "http://127.0.0.1:8000").rstrip("/")
    click.echo(f"{base}/link?code={link.secret}")
    click.echo(
        f"One-time sign-in link for {link.agent.label}, valid until "
        f"{link.expires_at:%Y-%m-%d %H:%M} UTC; it works once.",
        err=True,
    )


@agents.command("remove")
@click.argument("handle")
@click.pass_context
def agents_remove(ctx: click.Context, handle: str) -> None:
    """Take a teammate's access away: token, browser sessions and open bridges end at once.

    Their messages, notes and tickets stay; `agents token HANDLE` gives them access again."""
    from inbox_tui.core.sign_in import remove_agent

    agent = run_with_store(settings_from(ctx), lambda store: remove_agent(store, handle))
    click.echo(f"removed {agent.label}: their token, sessions and bridges no longer work")


@agents.command("list")
@click.pass_context
def agents_list(ctx: click.Context) -> None:
    """List teammates with availability, presence, load and shifts."""
    from inbox_tui.core.assignment import team_members
    from inbox_tui.core.shifts import describe_shifts

    settings = settings_from(ctx)

    async def _list(store: Store) -> list[Any]:
        async with store.read() as session:
            return await team_members(session, store.now(), settings.assignment)

    members = run_with_store(settings, _list)
    if not members:
        click.echo("no teammates yet: add one with `inbox-tui agents add HANDLE`", err=True)
    for member in members:
        row = member.status
        online = "online" if row.online else "offline"
        shift = "on shift" if member.on_shift else "off shift"
        click.echo(
            f"@{row.agent.handle:<16} {row.agent.name:<24} {row.availability:<10} {online:<8} "
            f"{row.open_tickets}/{row.capacity:<4} {shift:<10} {row.timezone:<20} "
            f"{describe_shifts(member.shifts)}"
        )


def inbox_agent(settings: Settings, override: str | None) -> str | None:
    """Who the inbox is for: ``open --agent``, else ``[tui] agent`` / ``INBOX_AGENT``."""
    return (override.strip().lstrip("@").lower() or None) if override else settings.tui.agent


@main.command("open")
@click.option("--agent", "agent_handle", default=None, help="Your handle (overrides [tui] agent).")
@click.pass_context
def open_inbox(ctx: click.Context, agent_handle: str | None) -> None:
    """Open the inbox TUI (connects to `inbox-tui serve` through the bridge).

    It logs to inbox.log in the user's log directory (`inbox-tui config path`)."""
    from inbox_tui.tui.launch import run_tui

    settings = settings_from(ctx)
    check_database(settings)
    setup_logging(log_level_from(ctx) or "warning", file=log_file("inbox"))
    code = run_tui(settings, agent_handle=inbox_agent(settings, agent_handle))
    if code:
        raise click.ClickException(f"the inbox stopped on an error (details in {log_file('inbox')})")


@main.command("serve")
@click.option("--host", default=None, help="Address to listen on.")
@click.option("--port", default=None, type=click.IntRange(0, 65535), help="Port (0 picks a free one).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the chat channel server: customers, the AI agent and the agents' bridge.

    Creates the database or upgrades its schema at start; logs to stderr."""
    from inbox_tui.channel.launch import run_server

    setup_logging(log_level_from(ctx) or "warning")
    run_server(settings_from(ctx), host=host, port=port)


@main.command("demo")
@click.option("--reset", is_flag=True, help="Start from an empty demo database.")
@click.option(
    "--no-tui", "headless", is_flag=True, help="Run the server and the simulated customers only, until Ctrl+C."
)
@click.option("--no-customers", is_flag=True, help="No simulated customers (play them with `inbox-tui chat --demo`).")
@click.option("--seed", default=None, type=int, help="Seed for the simulated customers' choices.")
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Port of the demo's server (default: 8770, or a free one when that is taken).",
)
@click.pass_context
def demo(
    ctx: click.Context, reset: bool, headless: bool, no_customers: bool, seed: int | None, port: int | None
) -> None:
    """A working inbox in one command: server, bot, teammates and customers, then the TUI.

    Nothing to configure and no network: the offline bot answers from a demo knowledge
    file (or your model, if one is configured). The demo keeps its own database in the
    data directory between runs; --reset starts afresh."""
    from inbox_tui.demo.background import DemoStartError
    from inbox_tui.demo.launch import run_demo

    try:
        code = run_demo(
            settings_from(ctx),
            reset=reset,
            tui=not headless,
            customers=not no_customers,
            seed=seed,
            echo=click.echo,
            log_level=log_level_from(ctx),
            port=port,
        )
    except DemoStartError as error:
        raise click.ClickException(str(error)) from None
    if code:
        raise click.ClickException("the inbox stopped on an error (details in the demo's log)")


@main.command("chat")
@click.option("--url", default=None, help="The server (ws://host:port); default: the configured one.")
@click.option("--demo", "join_demo", is_flag=True, help="Join the demo running on this machine.")
@click.option("--name", default=None, help="Your name as the inbox shows it.")
@click.option("--id", "customer_id", default=None, help="Your customer id (default: from your user name).")
@click.option("--email", default=None)
@click.option("--locale", default=None, help="e.g. es-ES (default: from LANG).")
@click.option("--channel", default="web", show_default=True)
@click.option("--new", "new_chat", is_flag=True, help="Start a new conversation instead of resuming.")
@click.pass_context
def chat(
    ctx: click.Context,
    url: str | None,
    join_demo: bool,
    name: str | None,
    customer_id: str | None,
    email: str | None,
    locale: str | None,
    channel: str,
    new_chat: bool,
) -> None:
    """Chat as a customer, in this terminal (the customer protocol, /chat).

    Resumes your last conversation with that server unless --new."""
    import getpass

    from websockets.exceptions import WebSocketException

    from inbox_tui.client.customer import ChatError
    from inbox_tui.demo.terminal_chat import ChatIdentity, TerminalChat, default_locale, default_time_zone

    settings = settings_from(ctx)
    if join_demo:
        from inbox_tui.demo.launch import running_demo_url

        url = running_demo_url()
        if url is None:
            raise click.ClickException("no demo is running with this data directory; start `inbox-tui demo` first")
    url = url or settings.bridge_base_url
    user = getpass.getuser()
    identity = ChatIdentity(
        customer_id=customer_id or f"terminal-{user}",
        name=name or user,
        email=email,
        locale=locale or default_locale(),
        channel=channel,
        time_zone=default_time_zone(),
    )
    try:
        code = asyncio.run(TerminalChat(url, identity, new=new_chat).run())
    except ChatError as error:
        if error.code in ("unreachable", "disconnected"):
            raise click.ClickException(f"lost the server: {error.message}") from None
        raise click.ClickException(f"the server refused: {error.message}") from None
    except (TimeoutError, OSError, WebSocketException) as error:
        raise click.ClickException(f"cannot reach {url}: {error or 'timed out'}") from None
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)


@main.command("web")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; beyond loopback needs --certfile/--keyfile or --behind-tls-proxy.",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--certfile", default=None, type=click.Path(dir_okay=False), help="TLS certificate (PEM) to serve HTTPS.")
@click.option("--keyfile", default=None, type=click.Path(dir_okay=False), help="The certificate's private key (PEM).")
@click.option(
    "--behind-tls-proxy",
    is_flag=True,
    help="A reverse proxy in front terminates TLS (cookies are then Secure, and the "
    "client address is read from X-Forwarded-For).",
)
@click.option("--public-url", default=None, help="The address browsers use (behind a proxy).")
@click.option(
    "--demo",
    "with_demo",
    is_flag=True,
    help="Serve the demo (its server and customers run too); on loopback, signs the demo teammate in.",
)
@click.option("--reset", is_flag=True, help="With --demo: start from an empty demo database.")
@click.pass_context
def web(
    ctx: click.Context,
    host: str,
    port: int,
    certfile: str | None,
    keyfile: str | None,
    behind_tls_proxy: bool,
    public_url: str | None,
    with_demo: bool,
    reset: bool,
) -> None:
    """Serve the inbox in a web browser: each teammate signs in, each tab is their inbox."""
    from pathlib import Path

    from inbox_tui.demo.background import DemoStartError
    from inbox_tui.web.launch import WebStartError, check_listening, serve_web

    settings = settings_from(ctx)
    try:  # the address first: a refused bind says so before anything touches the database
        check_listening(host, certfile, keyfile, behind_tls_proxy)
    except WebStartError as error:
        raise click.ClickException(str(error)) from None
    if not with_demo:
        check_database(settings)
    setup_logging(log_level_from(ctx) or "warning", file=log_file("web"))
    try:
        serve_web(
            settings,
            host=host,
            port=port,
            demo=with_demo,
            reset=reset,
            public_url=public_url,
            config_path=Path(settings.config_path) if settings.config_path else None,
            certfile=certfile,
            keyfile=keyfile,
            behind_tls_proxy=behind_tls_proxy,
            echo=click.echo,
        )
    except (DemoStartError, WebStartError) as error:
        raise click.ClickException(str(error)) from None


def _add_subcommands() -> None:
    from inbox_tui.cli_replies import replies  # its own module; it uses this one's helpers

    main.add_command(replies)


_add_subcommands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
