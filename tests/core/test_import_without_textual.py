"""The core, the AI interface, the settings, the runtime and the terminal customer
client never import Textual."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    import importlib
    import pkgutil
    import sys

    class BlockTextual:
        # A meta-path finder that refuses Textual and every module under it.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "textual":
                raise ImportError(f"the core must not import {name}")
            return None

    sys.meta_path.insert(0, BlockTextual())

    # migrations.env runs only inside Alembic (it needs Alembic's context).
    SKIP = {"inbox_tui.core.migrations.env"}
    imported = []
    for root in ("inbox_tui.core", "inbox_tui.ai"):
        package = importlib.import_module(root)
        imported.append(root)
        for module in pkgutil.walk_packages(package.__path__, root + "."):
            if module.name not in SKIP:
                importlib.import_module(module.name)
                imported.append(module.name)
    # The terminal customer client too: it shows untrusted text without the TUI.
    # The command line too, until a command opens the inbox.
    for name in ("inbox_tui.settings", "inbox_tui.runtime", "inbox_tui.ai.openai_backend",
                 "inbox_tui.untrusted_text", "inbox_tui.demo.terminal_chat", "inbox_tui.cli",
                 "inbox_tui.logs", "inbox_tui.config_file"):
        importlib.import_module(name)
        imported.append(name)

    assert "textual" not in sys.modules, "textual was imported"
    assert not [m for m in sys.modules if m.startswith("textual.")]
    print("\\n".join(imported))
    """
)


def test_core_and_ai_import_without_textual() -> None:
    completed = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    imported = set(completed.stdout.split())
    for expected in (
        "inbox_tui.core.escalation",
        "inbox_tui.core.views",
        "inbox_tui.core.store",
        "inbox_tui.core.events",
        "inbox_tui.core.tickets",
        "inbox_tui.ai.offline",
        "inbox_tui.ai.language",
        "inbox_tui.ai.factory",
        "inbox_tui.settings",
        "inbox_tui.runtime",
        "inbox_tui.untrusted_text",
        "inbox_tui.demo.terminal_chat",
    ):
        assert expected in imported


def test_the_blocker_really_blocks() -> None:
    """Guard against a check that cannot fail: importing Textual under it must fail."""
    probe = CHECK.split("# migrations.env")[0] + "\nimport textual\n"
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.returncode != 0
    assert "must not import textual" in completed.stderr
