"""Which web pages may open ``/chat``: the browser's ``Origin`` header against
``[server] allowed_origins``.

A browser always sends ``Origin`` on a websocket handshake, so a page on a foreign site
cannot talk to the server in its visitor's name. Clients that send no ``Origin`` (the
terminal client, integrations, the load generator) are not browsers and are let in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from inbox_tui.settings import SettingsError

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int | None

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


def parse_origin(value: str) -> Origin | None:
    """``scheme://host[:port]`` with the default port dropped; None for ``null`` or junk."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    if port == DEFAULT_PORTS.get(scheme):
        port = None
    return Origin(scheme, parts.hostname.lower(), port)


def host_header_netloc(host: str) -> str:
    """The request's ``Host`` header in the form ``Origin.netloc`` has (no default port)."""
    host = host.strip().lower()
    for default in (":80", ":443"):
        if host.endswith(default):
            return host[: -len(default)]
    return host


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OriginPolicy:
    """``allowed`` holds exact origins (``https://shop.example.com``), wildcard
    subdomains (``https://*.example.com``) or ``*`` (any page). The server's own origin
    is always allowed; loopback pages only while ``allowed`` is empty (the default)."""

    def __init__(self, allowed: Sequence[str]) -> None:
        self.any = "*" in allowed
        self.exact: set[Origin] = set()
        self.suffixes: set[tuple[str, str, int | None]] = set()
        for entry in allowed:
            if entry == "*":
                continue
            wildcard = "://*." in entry
            origin = parse_origin(entry.replace("://*.", "://", 1) if wildcard else entry)
            if origin is None:
                raise SettingsError(
                    f"server.allowed_origins: {entry!r} is not an origin "
                    "(write scheme://host[:port], https://*.example.com or *)"
                )
            if wildcard:
                self.suffixes.add((origin.scheme, "." + origin.host, origin.port))
            else:
                self.exact.add(origin)
        self.loopback_by_default = not allowed

    def allows(self, origin_header: str | None, host_header: str | None) -> bool:
        if origin_header is None:
            return True  # not a browser
        if self.any:
            return True
        origin = parse_origin(origin_header)
        if origin is None:
            return False  # "null": a sandboxed frame or a file:// page
        if host_header and origin.netloc == host_header_netloc(host_header):
            return True  # a page served by this server
        if self.loopback_by_default and is_loopback(origin.host):
            return True
        if origin in self.exact:
            return True
        return any(
            origin.scheme == scheme and origin.port == port and origin.host.endswith(suffix)
            for scheme, suffix, port in self.suffixes
        )


def refusal_text(origin_header: str, path: str) -> str:
    return (
        f"inbox-tui: a page on {origin_header} may not open {path}. "
        "Add its origin to allowed_origins under [server] in the server's config.toml.\n"
    )
