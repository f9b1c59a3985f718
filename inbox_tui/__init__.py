"""inbox-tui: a keyboard-first help-desk inbox in the terminal for AI chatbot teams."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inbox-tui")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
