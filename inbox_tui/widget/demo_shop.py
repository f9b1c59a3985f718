"""A small shop page with the chat widget, for ``inbox-tui demo`` and the browser tests.

It is served from its own origin, as a customer's website would be, under a strict
Content-Security-Policy that allows only the chat server's origin: the widget has to
work there without inline scripts, inline styles or ``eval``.
"""

from __future__ import annotations

import contextlib
import email.utils
import html
from collections.abc import AsyncIterator, Mapping
from http import HTTPStatus
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

DEMO_WIDGET_OPTIONS = {
    "title": "Velora Bikes",
    "color": "#2f6f5e",
    "greeting": "Hi! Ask me about shipping, returns, tracking or warranty — or ask for a person.",
}

SHOP_CSS = """\
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #222; background: #faf9f6; }
header { padding: 20px 24px; background: #1f2a26; color: #f4f1ea; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; opacity: 0.8; }
main { max-width: 960px; margin: 0 auto; padding: 24px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 16px; }
.card { background: #fff; border: 1px solid #e3e0d8; border-radius: 10px; padding: 16px; }
.card h2 { margin: 0 0 6px; font-size: 17px; }
.price { font-weight: 700; color: #2f6f5e; }
footer { padding: 24px; color: #666; font-size: 14px; text-align: center; }
"""

PRODUCTS = [
    ("Strada 2 road bike", "Aluminium frame, carbon fork, 2×11 gears.", "€1,249"),
    ("Terra gravel bike", "Wide tyres, relaxed geometry, mounts for everything.", "€1,590"),
    ("Urbana city bike", "Hub gears, dynamo lights, rack and mudguards.", "€890"),
    ("Rear wheel 700c", "Hand-built, 32 spokes, tubeless ready.", "€189"),
]


def shop_page(widget_url: str, options: Mapping[str, str]) -> str:
    attributes = "".join(f' data-{html.escape(name)}="{html.escape(value)}"' for name, value in options.items())
    cards = "".join(
        f'<article class="card"><h2>{html.escape(name)}</h2><p>{html.escape(about)}</p>'
        f'<p class="price">{html.escape(price)}</p></article>'
        for name, about, price in PRODUCTS
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>Velora Bikes</title><link rel="stylesheet" href="/shop.css">'
        f'<script src="{html.escape(widget_url)}"{attributes} async></script></head>'
        "<body><header><h1>Velora Bikes</h1><p>Bicycles and parts, shipped across Europe.</p></header>"
        f'<main><div class="grid">{cards}</div></main>'
        "<footer>A demo shop. The chat button in the corner talks to the inbox.</footer></body></html>\n"
    )


def strict_policy(widget_url: str) -> str:
    """Nothing inline, nothing from anywhere but this page and the chat server."""
    widget = urlsplit(widget_url)
    socket_scheme = "wss" if widget.scheme == "https" else "ws"
    origin = f"{widget.scheme}://{widget.netloc}"
    return (
        f"default-src 'none'; script-src {origin}; style-src 'self' {origin}; "
        f"connect-src {socket_scheme}://{widget.netloc}; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def _response(status: HTTPStatus, content_type: str, body: str, policy: str | None = None) -> Response:
    data = body.encode("utf-8")
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
        ]
    )
    if policy:
        headers["Content-Security-Policy"] = policy
    return Response(status.value, status.phrase, headers, data)


class DemoShop:
    """The shop page (``/``) on its own loopback port: ``shop = await DemoShop.start(url)``,
    then ``shop.url``; ``await shop.stop()``."""

    def __init__(self, server: Server, host: str) -> None:
        self._server = server
        self.url = f"http://{host}:{server.sockets[0].getsockname()[1]}/"

    @classmethod
    async def start(
        cls, widget_url: str, *, host: str = "127.0.0.1", port: int = 0, options: Mapping[str, str] | None = None
    ) -> DemoShop:
        page = shop_page(widget_url, DEMO_WIDGET_OPTIONS if options is None else options)
        policy = strict_policy(widget_url)

        def route(_connection: ServerConnection, request: Request) -> Response:
            path = request.path.split("?", 1)[0]
            if path == "/":
                return _response(HTTPStatus.OK, "text/html; charset=utf-8", page, policy)
            if path == "/shop.css":
                return _response(HTTPStatus.OK, "text/css; charset=utf-8", SHOP_CSS)
            return _response(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", "not found\n")

        server = await serve(_never_upgraded, host, port, process_request=route, server_header="inbox-tui-demo-shop")
        return cls(server, host)

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()


async def _never_upgraded(_connection: ServerConnection) -> None:
    return None  # every request is answered by the page's route


@contextlib.asynccontextmanager
async def serve_demo_shop(
    widget_url: str, *, host: str = "127.0.0.1", port: int = 0, options: Mapping[str, str] | None = None
) -> AsyncIterator[DemoShop]:
    """Serve the shop page until the block ends."""
    shop = await DemoShop.start(widget_url, host=host, port=port, options=options)
    try:
        yield shop
    finally:
        await shop.stop()
