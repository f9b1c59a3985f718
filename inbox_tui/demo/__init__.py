"""`inbox-tui demo`: a working inbox in one command — the channel server, the offline
bot with a small knowledge file, demo teammates and simulated customers, then the TUI."""
