"""``inbox-tui web``: the inbox in a browser, one signed-in teammate per tab."""
