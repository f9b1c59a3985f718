"""The HTML the web server sends: the sign-in page and the terminal page.

Every value is escaped; there is no inline script or event handler, so the
Content-Security-Policy (``server.SECURITY_HEADERS``) can allow scripts from the
server itself only."""

from __future__ import annotations

from html import escape

HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/inbox/inbox.css">
{extra}</head>
"""


def sign_in_page(title: str, *, error: str | None = None, note: str | None = None) -> str:
    """The token form; a one-time link leads to ``link_page`` instead."""
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    hint = f'<p class="note">{escape(note)}</p>' if note else ""
    return (
        HEAD.format(title=escape(title), extra="")
        + f"""<body>
<main class="sign-in">
<h1>Sign in to {escape(title)}</h1>
{message}
<form method="post" action="/sign-in">
<label for="token">Your teammate token</label>
<input type="password" id="token" name="token" autocomplete="current-password" autofocus required>
<button type="submit">Sign in</button>
</form>
<p class="note">No token at hand? Ask for a one-time sign-in link
(<code>inbox-tui agents link YOUR-HANDLE</code>).</p>
{hint}
</main>
</body>
</html>
"""
    )


def link_page(title: str, code: str) -> str:
    """Opening a link only shows a button: link previews in chat apps must not spend it."""
    return (
        HEAD.format(title=escape(title), extra="")
        + f"""<body>
<main class="sign-in">
<h1>Sign in to {escape(title)}</h1>
<form method="post" action="/link">
<input type="hidden" name="code" value="{escape(code, quote=True)}">
<p>This one-time link signs you in once and then stops working.</p>
<button type="submit" id="use-link">Sign in with this link</button>
</form>
</main>
</body>
</html>
"""
    )


def terminal_page(title: str, *, handle: str, websocket_url: str, font_size: int, note: str | None) -> str:
    """textual-serve's terminal (its script and styles), under a bar with the sign-out."""
    extra = (
        '<link rel="stylesheet" href="/static/textual/css/xterm.css">\n'
        '<script src="/static/textual/js/textual.js"></script>\n'
        '<script src="/static/inbox/inbox.js"></script>\n'
    )
    hint = f"<span>{escape(note)}</span>" if note else ""
    return (
        HEAD.format(title=escape(title), extra=extra)
        + f"""<body class="terminal-page">
<div class="bar">{hint}<span id="signed-in-as">Signed in as @{escape(handle)}</span>
<form method="post" action="/sign-out" id="sign-out">
<button type="submit" title="Sign out (Alt+Shift+Q)">Sign out</button>
</form></div>
<div class="ended"><p class="message">Session ended.</p><button type="button" id="again">Start again</button></div>
<button type="button" id="start">Start</button>
<div id="terminal" class="textual-terminal" data-session-websocket-url="{escape(websocket_url, quote=True)}"
 data-font-size="{font_size}"></div>
</body>
</html>
"""
    )
