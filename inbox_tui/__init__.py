"""inbox-tui: a keyboard-first help-desk inbox in the terminal for AI chatbot teams."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # Looked up on first use: importlib.metadata costs the inbox's start a few dozen ms.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("inbox-tui")
        except PackageNotFoundError:  # running from a source tree that was never installed
            return "0.0.0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
