"""inbox-tui: a keyboard-first help-desk inbox in the terminal for AI chatbot teams."""

__version__ = "0.1.0"
