"""The inbox application: settings, the runtime, themes, the keymap, the bridge, shutdown.

The inbox itself is :class:`~inbox_tui.tui.screens.inbox.InboxScreen` (the default
screen). The app keeps what outlives a screen: the store and AI (``Runtime``), the
themes and the user's keymap, and the bridge worker, whose events and status it posts
to the inbox screen as typed messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from inbox_tui.core.store import Clock, utc_now
from inbox_tui.runtime import Runtime, open_runtime
from inbox_tui.settings import Settings, secret
from inbox_tui.tui import reads
from inbox_tui.tui.commands import InboxCommands
from inbox_tui.tui.live_updates import event_received
from inbox_tui.tui.messages import BridgeStatusChanged
from inbox_tui.tui.screens.inbox import InboxScreen, not_signed_in_text
from inbox_tui.tui.themes import all_theme_folders, load_themes
from inbox_tui.tui.widgets.composer import Composer
from inbox_tui.tui.widgets.list_pane import LIST_LIMIT
from inbox_tui.tui.widgets.row_list import RowList

if TYPE_CHECKING:  # what the first screen does not need is imported where it is used
    from inbox_tui.tui.bridge_status import BridgeStatus
    from inbox_tui.wire.bridge import Event

log = logging.getLogger(__name__)

#: On quit: how long cancelled workers may take to unwind, then closing the database.
WORKERS_STOP_SECONDS = 3.0
STORE_CLOSE_SECONDS = 5.0
DEFAULT_THEME = "inbox-dark"


class InboxApp(App[None]):
    CSS_PATH = "inbox.tcss"
    TITLE = "inbox-tui"
    COMMANDS = App.COMMANDS | {InboxCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("T", "team", "Team", show=False, id="app.team"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        agent_handle: str | None = None,
        clock: Clock = utc_now,
        runtime: Runtime | None = None,
        connect_bridge: bool = True,
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.agent_handle = agent_handle
        self.clock = clock
        self.runtime: Runtime | None = runtime
        self._owns_runtime = runtime is None
        self._opening: asyncio.Future[None] | None = None
        self.connect_bridge = connect_bridge
        self.cursor_blink = cursor_blink
        self.ready = asyncio.Event()  # set once the inbox has shown its first screen (the rows)
        self.started_up = asyncio.Event()  # and then the counts, the team, the alerts, the bridge
        self.inbox_theme_names: list[str] = []
        self.keymap_overrides: dict[str, str] = dict(settings.tui.keymap)
        self.inbox = InboxScreen()
        self._closing = False

    def get_default_screen(self) -> InboxScreen:
        return self.inbox

    async def open_runtime(self) -> Runtime:
        """The store and the AI, opened on first use (a flow may need either)."""
        runtime = await self.open_store()
        runtime.load_ai()
        return runtime

    async def open_store(self) -> Runtime:
        """The store, opened on first use; the AI is left for later (the first screen needs only the store)."""
        if self.runtime is None:
            if self._opening is None or self._opening.done():  # the first time, or again after a failure
                self._opening = reads.start(self._open_store())
            await asyncio.shield(self._opening)  # its error, if it failed; a cancel leaves it running
        assert self.runtime is not None
        return self.runtime

    async def _open_store(self) -> None:
        # One opening however many workers ask, run to its end even if they are
        # cancelled (quitting): the store it opens is then the app's to close, never lost
        # half-open with its connections left to the garbage collector.
        self.runtime = await open_runtime(self.settings, clock=self.clock, build_ai=False)

    def on_mount(self) -> None:
        self._load_themes()
        self._apply_keymap()

    # ----- themes and keys ----------------------------------------------------

    def _load_themes(self) -> None:
        themes, problems = load_themes(*all_theme_folders())
        for theme in themes:
            self.register_theme(theme)
        self.inbox_theme_names = sorted(t.name for t in themes)
        for problem in problems:
            self.notify(f"Theme file {problem.path} skipped: {problem.message}", severity="warning", markup=False)
        wanted = self.settings.tui.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            if wanted != DEFAULT_THEME:
                self.notify(f"Unknown theme {wanted!r}; using {DEFAULT_THEME}.", severity="warning", markup=False)
            if DEFAULT_THEME in self.available_themes:
                self.theme = DEFAULT_THEME

    def _apply_keymap(self) -> None:
        if not self.keymap_overrides:
            return
        known = {b.id for b in self.all_bindings() if b.id}
        unknown = sorted(set(self.keymap_overrides) - known)
        if unknown:
            self.notify(
                f"Unknown key binding ids in [tui.keymap]: {', '.join(unknown)}", severity="warning", markup=False
            )
        self.set_keymap({k: v for k, v in self.keymap_overrides.items() if k in known})

    def all_bindings(self) -> list[Binding]:
        return [b for _, bindings in self.binding_sections() for b in bindings]

    @staticmethod
    def binding_sections() -> list[tuple[str, list[Binding]]]:
        def only(bindings: list[Any]) -> list[Binding]:
            return [b for b in bindings if isinstance(b, Binding)]

        inbox = only(InboxApp.BINDINGS) + only(InboxScreen.BINDINGS)
        return [
            ("Inbox", [b for b in inbox if b.id and b.id.startswith(("app.", "list.", "me."))]),
            ("Views", [b for b in inbox if b.id and b.id.startswith("view.")]),
            ("Lists", only(RowList.BINDINGS)),
            ("Ticket", [b for b in inbox if b.id and b.id.startswith(("ticket.", "composer."))]),
            ("Composer (while typing)", only(Composer.BINDINGS)),
            (
                "Everywhere",
                [
                    Binding("tab", "focus_next", "Next pane"),
                    Binding("shift+tab", "focus_previous", "Previous pane"),
                    Binding("ctrl+p", "command_palette", "Command palette: actions, views, themes"),
                    Binding("ctrl+q", "quit", "Quit"),
                ],
            ),
        ]

    def action_help(self) -> None:
        from inbox_tui.tui.screens.help import HelpScreen, help_content

        self.push_screen(HelpScreen(help_content(self.binding_sections(), self.keymap_overrides)))

    def action_team(self) -> None:
        from inbox_tui.tui.screens.team import TeamScreen

        if self.runtime is not None:
            self.runtime.load_ai()  # the screen's changes may tell customers who joined
            self.push_screen(
                TeamScreen(self.runtime.store, self.settings.assignment, self.inbox.me, cursor_blink=self.cursor_blink)
            )

    # ----- the bridge -----------------------------------------------------------

    def start_bridge(self, last_event_id: int) -> None:
        self._bridge(last_event_id)

    @work(exit_on_error=False, group="bridge", exclusive=True)
    async def _bridge(self, last_event_id: int) -> None:
        from inbox_tui.tui.bridge_client import BridgeClient

        token = secret(self.settings.tui.token)
        if not token:
            return
        client = BridgeClient(self.settings.bridge_base_url, token, last_event_id, self._event, self._status)
        await client.run()

    def _event(self, raw: Event) -> None:
        message = event_received(raw)
        if message is not None:
            self.inbox.post_message(message)

    def _status(self, status: BridgeStatus) -> None:
        self.inbox.post_message(BridgeStatusChanged(status))

    # ----- quitting ---------------------------------------------------------------

    async def action_quit(self) -> None:
        self._save_draft()
        self.exit()

    def _save_draft(self) -> None:
        composers = self.inbox.query(Composer)
        if composers:  # not yet gone (quitting)
            composers.first().save_draft()

    def on_worker_state_changed(self, event: Any) -> None:
        """A failed worker is said on screen and logged; the inbox keeps running."""
        from textual.worker import WorkerState

        if event.state is WorkerState.ERROR and self.is_running and not self._closing:
            error = event.worker.error
            log.error("worker %s failed: %r", event.worker.name, error, exc_info=error)
            self.notify(
                f"{event.worker.name.strip('_').replace('_', ' ')} failed: {error}",
                severity="error",
                markup=False,
                timeout=10,
            )

    async def on_unmount(self) -> None:
        self._closing = True
        self._save_draft()
        # Let cancelled workers unwind before the engines go: a connection abandoned
        # half-way through a query would otherwise be finalized later, on a dead loop.
        self.workers.cancel_all()
        if not await _within(_all_ended(list(self.workers)), WORKERS_STOP_SECONDS):
            log.warning("workers still running %.0f s after their cancel; quitting anyway", WORKERS_STOP_SECONDS)
        # Store work runs to its end even for a cancelled worker: it gives its connections back first.
        if not await _within(reads.settle(), WORKERS_STOP_SECONDS):
            log.warning("store work still running %.0f s after quitting began", WORKERS_STOP_SECONDS)
        if (
            self._owns_runtime
            and self.runtime is not None
            and not await _within(self.runtime.close(), STORE_CLOSE_SECONDS)
        ):
            log.warning("closing the store took too long; leaving it to the process exit")


async def _all_ended(workers: list[Any]) -> None:
    """Wait until every worker has ended, whatever it ended with.

    Not Textual's ``wait_for_complete``: it gathers the workers' ``wait()``, which raises
    ``WorkerCancelled`` for the first cancelled worker to end, so it returns while the
    others still unwind, some holding a database connection the store then never gets back."""
    await asyncio.gather(*(worker.wait() for worker in workers), return_exceptions=True)


async def _within(work: Coroutine[Any, Any, Any], seconds: float) -> bool:
    """Run ``work`` for at most ``seconds``; False if it had not finished by then.

    Never longer, unlike ``asyncio.wait_for``, which after its timeout waits for the
    cancelled work to end: quitting must not hang on work that is slow to unwind."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task not in done:
        task.cancel()
        return False
    if not task.cancelled() and task.exception() is not None:  # said, not raised: quitting goes on
        log.warning("shutting down: %r", task.exception())
    return True


__all__ = ["LIST_LIMIT", "InboxApp", "not_signed_in_text"]
