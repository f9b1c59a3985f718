"""README.md stays true: every `inbox-tui …` line in its shell blocks is a command and
options the installed CLI accepts, and `.ci/run` runs exactly the test command it gives.
(What the commands do is exercised by the end-to-end tests: the demo in tmux, chat,
web, serve, agents.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from inbox_tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_lines() -> list[str]:
    lines: list[str] = []
    for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", README, flags=re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)  # backslash continuations
        lines += [line.strip() for line in joined.splitlines() if line.strip()]
    return lines


def inbox_commands() -> list[list[str]]:
    """The argument lists of every `inbox-tui` invocation in the README's shell blocks."""
    found: list[list[str]] = []
    for line in shell_lines():
        words = shlex.split(line, comments=True)
        segment: list[str] = []
        for word in [*words, "&&"]:
            if word in ("&&", ";", "||", "|"):
                while segment and re.match(r"^[A-Z_][A-Z0-9_]*=", segment[0]):
                    segment.pop(0)  # VAR=value before the command
                if segment and segment[0].endswith("inbox-tui"):
                    found.append(segment[1:])
                segment = []
            else:
                segment.append(word)
    return found


def parse(args: list[str]) -> None:
    """Parse like click would, down to the leaf command, without running anything."""
    command: click.Command = main
    context = command.make_context("inbox-tui", list(args), resilient_parsing=False)
    while isinstance(command, click.Group):
        rest = [*context._protected_args, *context.args]
        if not rest:
            return
        name, sub, rest = command.resolve_command(context, rest)
        assert sub is not None, f"no command {name!r}"
        command = sub
        context = command.make_context(name or "", rest, parent=context)


def test_readme_has_the_commands_a_newcomer_needs() -> None:
    commands = [" ".join(args) for args in inbox_commands()]
    for needed in ("demo", "chat --demo", "web --demo", "serve", "agents add"):
        assert any(c == needed or c.startswith(needed + " ") for c in commands), needed


@pytest.mark.parametrize("args", inbox_commands(), ids=lambda a: " ".join(a) or "(no arguments)")
def test_every_readme_command_parses(args: list[str]) -> None:
    parse(args)


def test_ci_runs_the_readme_test_command() -> None:
    section = re.search(r"^## Run the tests\n(.*?)(?=^## |\Z)", README, flags=re.MULTILINE | re.DOTALL)
    assert section, "README.md has no 'Run the tests' section"
    block = re.search(r"```sh\n(.*?)```", section.group(1), flags=re.DOTALL)
    assert block
    test_command = block.group(1).strip().splitlines()[0]
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci, f".ci/run does not run {test_command!r}"
    install = re.search(r"```sh\n(.*?)```", README.split("## Install and run the demo", 1)[1], flags=re.DOTALL)
    assert install
    # .ci/run installs the same way (in two steps, with the lint and type tools), then tests.
    assert 'pip install -q -e ".[test,dev]"' in "\n".join(ci) and '-e ".[test]"' in install.group(1)


def toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(toml_blocks())))
def test_every_readme_config_example_loads(index: int, tmp_path: Path) -> None:
    from inbox_tui.settings import load_settings

    path = tmp_path / "config.toml"
    path.write_text(toml_blocks()[index], encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.config_path == path


def test_readme_keys_are_the_apps_keys() -> None:
    """Every binding id in the README's key tables and keymap example exists, and the
    keys it names for it are the app's."""
    from inbox_tui.tui.app import InboxApp

    bindings = {b.id: b for b in InboxApp.all_bindings(InboxApp) if b.id}  # type: ignore[arg-type]
    section = README.split("## Keys", 1)[1].split("\n## ", 1)[0]
    rows = [row for row in section.splitlines() if row.startswith("| `")]
    assert len(rows) >= 15
    for row in rows:
        keys_cell, _, ids_cell = [cell.strip() for cell in row.strip("|").split("|")]
        for binding_id in re.findall(r"`([a-z_]+\.[a-z_.]+)`", ids_cell):
            if "…" in ids_cell:
                continue  # a range such as view.conversations … view.closed
            assert binding_id in bindings, f"README names an unknown key binding {binding_id!r}"
            app_keys = {k.strip() for k in bindings[binding_id].key.split(",")}
            readme_keys = {_key_name(k) for k in re.findall(r"`([^`]+)`", keys_cell)}
            assert app_keys & readme_keys, f"{binding_id}: README says {readme_keys}, the app {app_keys}"
    keymap = re.search(r"\[tui\.keymap\]\n(.*?)```", section, flags=re.DOTALL)
    assert keymap
    for binding_id in re.findall(r'^"([^"]+)"', keymap.group(1), flags=re.MULTILINE):
        assert binding_id in bindings, binding_id


def _key_name(shown: str) -> str:
    """`Ctrl+J` → ctrl+j, `Esc` → escape, `/` → slash, `?` → question_mark."""
    names = {
        "esc": "escape",
        "/": "slash",
        "?": "question_mark",
        "enter": "enter",
        "pageup": "pageup",
        "pagedown": "pagedown",
    }
    lowered = shown.lower()
    if len(shown) == 1 and shown.isalpha():
        return shown  # `R` and `r` are different keys
    return names.get(lowered, lowered)
