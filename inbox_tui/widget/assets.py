"""The widget's files as HTTP responses: content types, ETags, caching, gzip.

``widget.js`` is named by an unversioned URL in customers' pages, so browsers keep it
briefly and then revalidate with its ETag (a 304 costs a few bytes). ``widget.css`` is
requested by the script with its content hash in the query, so it can be cached for
good. Everything is read and compressed once, at start.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

WIDGET_SCRIPT_PATH = "/widget.js"
WIDGET_STYLE_PATH = "/widget.css"
#: Replaced in widget.js by the stylesheet's hash, so the script asks for this version.
STYLE_VERSION_MARK = "__WIDGET_STYLE_VERSION__"
SHORT_CACHE = "public, max-age=300"
FOREVER_CACHE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, content_type: str) -> Asset:
        return cls(
            body,
            gzip.compress(body, compresslevel=9, mtime=0),
            content_type,
            '"' + hashlib.sha256(body).hexdigest()[:20] + '"',
        )

    @property
    def version(self) -> str:
        return self.etag.strip('"')[:12]


def read_static(name: str) -> bytes:
    return (resources.files("inbox_tui.widget") / "static" / name).read_bytes()


def load_assets() -> dict[str, Asset]:
    style = Asset.of(read_static("widget.css"), "text/css; charset=utf-8")
    script = read_static("widget.js").replace(STYLE_VERSION_MARK.encode(), style.version.encode())
    return {
        WIDGET_SCRIPT_PATH: Asset.of(script, "text/javascript; charset=utf-8"),
        WIDGET_STYLE_PATH: style,
    }


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


class WidgetFiles:
    def __init__(self) -> None:
        self.assets = load_assets()

    def serves(self, path: str) -> bool:
        return path in self.assets

    def response(self, request: Request) -> Response:
        path, _, query = request.path.partition("?")
        asset = self.assets[path]
        versioned = path == WIDGET_STYLE_PATH and query == f"v={asset.version}"
        headers = Headers(
            [
                ("Date", email.utils.formatdate(usegmt=True)),
                ("Connection", "close"),
                ("ETag", asset.etag),
                ("Cache-Control", FOREVER_CACHE if versioned else SHORT_CACHE),
                ("Vary", "Accept-Encoding"),
                ("X-Content-Type-Options", "nosniff"),
                # Any site may embed the widget; pages that isolate themselves (COEP) too.
                ("Cross-Origin-Resource-Policy", "cross-origin"),
            ]
        )
        if _matches(request.headers.get("If-None-Match"), asset.etag):
            return Response(HTTPStatus.NOT_MODIFIED.value, HTTPStatus.NOT_MODIFIED.phrase, headers, b"")
        body = asset.body
        if _accepts_gzip(request.headers.get("Accept-Encoding")):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = asset.content_type
        headers["Content-Length"] = str(len(body))
        if getattr(request, "method", "GET") == "HEAD":
            body = b""  # the headers of a GET, no body
        return Response(HTTPStatus.OK.value, HTTPStatus.OK.phrase, headers, body)
