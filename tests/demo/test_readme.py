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
    # .ci/run installs the same way (in two steps), then tests.
    assert 'pip install -q -e ".[test]"' in "\n".join(ci) and '-e ".[test]"' in install.group(1)
