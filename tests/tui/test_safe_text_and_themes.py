"""The literal-text helper, theme files and the drafts file."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from rich.text import Text

from inbox_tui.tui.drafts import DraftStore
from inbox_tui.tui.safe_text import literal, literal_content, literal_text
from inbox_tui.tui.themes import BUNDLED_THEMES_DIR, load_themes, parse_theme, user_themes_dir
from tests.tui.conftest import Inbox


def test_control_characters_become_visible_and_markup_stays_text() -> None:
    assert literal("\x1b]52;c;cGF3bmVk\x07") == "␛]52;c;cGF3bmVk␇"
    assert literal("a\x1b[2Jb") == "a␛[2Jb"
    assert literal("bad\u202eevil") == "bad<U+202E>evil"
    assert literal("C1 \x9b31m") == "C1 <U+009B>31m"
    assert literal("line one\nline two") == "line one\nline two"
    assert literal("line one\r\n\tline two", single_line=True) == "line one line two"
    assert literal("x" * 10, limit=5) == "xxxx…"
    assert literal(None) == ""
    # Markup is never parsed by the helpers that build renderables.
    assert literal_text("[b]x[/b]").plain == "[b]x[/b]"
    assert str(literal_content("[@click=app.quit]x[/]")) == "[@click=app.quit]x[/]"
    assert isinstance(literal_text("x"), Text)


def test_the_bundled_themes_parse_and_include_dark_light_and_high_contrast() -> None:
    themes, problems = load_themes(BUNDLED_THEMES_DIR)
    assert problems == []
    by_name = {t.name: t for t in themes}
    assert {"inbox-dark", "inbox-light", "inbox-high-contrast"} <= set(by_name)
    assert by_name["inbox-light"].dark is False and by_name["inbox-dark"].dark is True


def test_a_user_theme_overrides_and_a_broken_one_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    folder.mkdir()
    (folder / "mine.toml").write_text('name = "inbox-dark"\nprimary = "#ff0000"\n', encoding="utf-8")
    (folder / "broken.toml").write_text('name = "x"\nprimary = "not a colour"\n', encoding="utf-8")
    (folder / "garbage.toml").write_text("= = =", encoding="utf-8")
    themes, problems = load_themes(BUNDLED_THEMES_DIR, folder)
    dark = next(t for t in themes if t.name == "inbox-dark")
    assert dark.primary.lower() == "#ff0000"
    assert sorted(p.path.name for p in problems) == ["broken.toml", "garbage.toml"]
    with pytest.raises(ValueError, match="needs a primary"):
        (folder / "empty.toml").write_text('name = "e"\n', encoding="utf-8")
        parse_theme(folder / "empty.toml")


async def test_the_app_registers_user_themes_and_applies_the_configured_one(inbox: Inbox) -> None:
    folder = user_themes_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sunrise.toml").write_text(
        'name = "sunrise"\ndark = false\nprimary = "#d75f00"\nbackground = "#ffffd7"\n', encoding="utf-8"
    )
    app = inbox.app(theme="sunrise")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.started_up.wait()
        assert app.theme == "sunrise"
        assert "sunrise" in app.inbox_theme_names
        app.theme = "inbox-high-contrast"
        await pilot.pause()
        assert app.current_theme.name == "inbox-high-contrast"


async def test_an_unknown_theme_falls_back_to_inbox_dark_and_says_so(inbox: Inbox) -> None:
    app = inbox.app(theme="nope")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.started_up.wait()
        await pilot.pause()
        assert app.theme == "inbox-dark"
        assert any("Unknown theme 'nope'" in str(n.message) for n in app._notifications)


def test_drafts_are_kept_in_a_file_and_empty_ones_removed(tmp_path: Path) -> None:
    path = tmp_path / "drafts.json"
    drafts = DraftStore(path)
    drafts.put(7, "hello", "note")
    assert DraftStore(path).get(7).text == "hello" and DraftStore(path).get(7).mode == "note"
    assert path.stat().st_mode & 0o777 == 0o600  # a draft is one teammate's own
    drafts.put(7, "   ", "reply")
    assert DraftStore(path).get(7) is None
    path.write_text("{not json", encoding="utf-8")
    assert DraftStore(path).get(7) is None  # a broken file starts empty rather than failing


def test_the_readme_theme_example_is_a_valid_theme(tmp_path: Path) -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Themes", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(# .*?)```", section, flags=re.DOTALL)
    assert block, "the Themes section has no theme example"
    path = tmp_path / "example.toml"
    path.write_text(block.group(1), encoding="utf-8")
    assert parse_theme(path).name == "sunrise"


def test_typing_keeps_drafts_in_memory_until_saved(tmp_path: Path) -> None:
    """The composer calls ``keep`` on every keystroke: no file write until ``save_pending``."""
    path = tmp_path / "drafts.json"
    drafts = DraftStore(path)
    for end in range(1, 30):
        drafts.keep(7, "typing"[: end % 6 + 1], "reply")
    assert not path.exists() and drafts.pending
    drafts.save_pending()
    assert DraftStore(path).get(7) is not None and not drafts.pending


def test_a_lone_carriage_return_is_shown_not_dropped() -> None:
    assert literal("50% off\rFREE") == "50% off␍FREE"
    assert literal("line one\r\nline two") == "line one\nline two"


def test_a_handoff_line_says_system_once() -> None:
    from datetime import datetime

    from inbox_tui.core.records import MessageRecord
    from inbox_tui.tui.widgets.thread_view import render_thread

    at = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    for name in ("system", ""):
        text = render_thread([MessageRecord(1, 1, "system", name, "A teammate has joined.", at)]).plain
        assert "system  system" not in text and text.startswith("system · 10:00")
