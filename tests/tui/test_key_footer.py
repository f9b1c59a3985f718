"""The footer of keys rebuilds once for the changes of one refresh, and shows the last."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from inbox_tui.tui.widgets.key_footer import KeyFooter


class KeysApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("a", "alpha", "Alpha"), Binding("b", "beta", "Beta")]

    def __init__(self, footer: Footer) -> None:
        super().__init__()
        self.footer = footer
        self.shown = {"alpha": True, "beta": True}
        self.rebuilds = 0

    def compose(self) -> ComposeResult:
        yield self.footer

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.shown.get(action, True)

    def action_alpha(self) -> None: ...

    def action_beta(self) -> None: ...


def keys_shown(app: KeysApp) -> list[str]:
    return [key.description for key in app.query(FooterKey) if not key.has_class("-command-palette")]


async def changes_in_one_refresh(footer: Footer) -> tuple[int, list[str], list[str]]:
    """Six changes of the keys between two refreshes (as the inbox's first screen makes
    them), then one more after: the rebuilds, and the keys shown after each step."""
    app = KeysApp(footer)
    async with app.run_test() as pilot:
        await pilot.pause()
        original = type(footer).recompose
        rebuilds = 0

        async def counted(self: Footer) -> None:
            nonlocal rebuilds
            rebuilds += 1
            await original(self)

        type(footer).recompose = counted  # type: ignore[method-assign]
        try:
            for step in range(6):
                app.shown["beta"] = step % 2 == 0  # ends hidden
                app.refresh_bindings()
            await pilot.pause()
            after_six = keys_shown(app)
            app.shown["beta"] = True
            app.refresh_bindings()
            await pilot.pause()
            after_one_more = keys_shown(app)
        finally:
            type(footer).recompose = original  # type: ignore[method-assign]
    return rebuilds, after_six, after_one_more


async def test_six_changes_in_one_refresh_rebuild_the_footer_once() -> None:
    rebuilds, after_six, after_one_more = await changes_in_one_refresh(KeyFooter())
    assert after_six == ["Alpha"]  # the state after the last change
    assert after_one_more == ["Alpha", "Beta"]  # a change after the rebuild is shown too
    assert rebuilds == 2
    # Textual's own footer rebuilds once per change (what this one saves).
    textual_rebuilds, textual_after_six, _ = await changes_in_one_refresh(Footer())
    assert textual_after_six == ["Alpha"] and textual_rebuilds == 7


async def restyles_of_keys_as_they_mount(footer: Footer) -> tuple[int, dict[str, bool]]:
    """How often the footer's keys were restyled while it was built, and which are
    compact once built."""
    restyles = 0
    original = FooterKey.update_node_styles

    def counted(self: FooterKey, animate: bool = True) -> None:
        nonlocal restyles
        restyles += 1
        original(self, animate)

    FooterKey.update_node_styles = counted  # type: ignore[method-assign]
    try:
        app = KeysApp(footer)
        async with app.run_test() as pilot:
            await pilot.pause()
            compact = {key.description: key.has_class("-compact") for key in app.query(FooterKey)}
    finally:
        FooterKey.update_node_styles = original  # type: ignore[method-assign]
    return restyles, compact


async def test_each_key_is_styled_once_as_it_mounts_and_looks_as_in_textuals_footer() -> None:
    restyles, compact = await restyles_of_keys_as_they_mount(KeyFooter())
    textual_restyles, textual_compact = await restyles_of_keys_as_they_mount(Footer())
    assert compact == textual_compact  # the same look: bound keys like the footer, the palette's compact
    assert compact["Alpha"] is False and any(compact.values())
    assert textual_restyles >= 4  # Textual's: twice for each bound key, as it mounts
    assert restyles < textual_restyles, (restyles, textual_restyles)
