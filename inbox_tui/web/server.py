"""The web server: sign-in, sessions, and one inbox process per browser tab.

Built on aiohttp (the server textual-serve itself uses) with textual-serve's
``AppService`` (runs a command and relays its terminal) and its page script and styles.
textual-serve's own ``Server`` has no hook for sign-in, per-tab identities or headers,
so this module owns the HTTP side; ``tests/web/test_textual_serve_contract.py`` fails if
the parts of textual-serve used here change.

- A browser signs in with the teammate's token or a one-time link (``core.sign_in``);
  the session cookie is HttpOnly, SameSite=Strict, and Secure when served over TLS.
- Each tab's inbox process gets the teammate's web session as its token: it works as
  that teammate, and a session that ends (sign-out, idle time, rotated or removed
  token) closes its tabs.
- Failed sign-ins are limited per address and logged; every response carries the
  security headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import shlex
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import textual_serve
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from inbox_tui.core import sign_in
from inbox_tui.core.conversations import hash_token
from inbox_tui.core.models import Agent
from inbox_tui.core.records import AgentRef
from inbox_tui.core.store import Store
from inbox_tui.web import pages
from inbox_tui.web.limiter import FailedSignIns

log = logging.getLogger("inbox_tui.web")

COOKIE = "inbox_session"
#: How long each tab's app gets to quit before it is killed.
TAB_QUIT_TIMEOUT = 5.0
#: How often sessions with open tabs are checked (ended elsewhere, expired) and kept alive.
CHECK_INTERVAL_SECONDS = 1.0
#: Expired sessions and links are deleted every this many checks (and at the first).
FORGET_EVERY_CHECKS = 600
#: Close code a tab's socket gets when its session ends.
CLOSE_SIGNED_OUT = 4001
TEXTUAL_STATIC = Path(textual_serve.__file__).parent / "static"
OWN_STATIC = Path(__file__).parent / "static"


def security_headers(websocket_origin: str) -> dict[str, str]:
    """What every response carries. The page runs textual-serve's script (from this
    server), which inserts its own <style> elements, hence 'unsafe-inline' for styles only."""
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self' data:",
            "img-src 'self' data: blob:",
            f"connect-src 'self' {websocket_origin}",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",  # no-referrer would make forms send "Origin: null"
        "Cross-Origin-Opener-Policy": "same-origin",
    }


class SignedInAppService(AppService):
    """textual-serve's app runner with this tab's own environment (the teammate's session
    as the inbox's token) added to the one it builds."""

    def __init__(self, *args: Any, environment: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tab_environment = dict(environment)

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**super()._build_environment(width=width, height=height), **self._tab_environment}


@dataclass(eq=False)  # each tab is its own, hashed by identity
class Tab:
    websocket: web.WebSocketResponse
    service: AppService


@dataclass
class SignedIn:
    """The web sessions this server has tabs open for."""

    tabs: dict[int, set[Tab]] = field(default_factory=dict)
    #: Sessions used since the last check, and when.
    activity: dict[int, datetime] = field(default_factory=dict)


def open_command(config_path: Path | None = None) -> str:
    """The shell command started for each browser tab: the inbox, as configured."""
    argv = [sys.executable, "-m", "inbox_tui"]
    if config_path is not None:
        argv += ["--config", str(config_path)]
    # exec: the shell AppService starts becomes the app, so nothing sits in between.
    return "exec " + shlex.join([*argv, "open"])


class InboxWebServer:
    def __init__(
        self,
        store: Store,
        *,
        command: str,
        tab_environment: Mapping[str, str] | None = None,
        title: str = "inbox-tui",
        idle: timedelta = timedelta(hours=8),
        failed_sign_ins: FailedSignIns | None = None,
        secure: bool = False,
        behind_proxy: bool = False,
        public_url: str | None = None,
        auto_sign_in: str | None = None,
        check_interval: float = CHECK_INTERVAL_SECONDS,
    ) -> None:
        self.store = store
        self.command = command
        self.tab_environment = dict(tab_environment or {})
        self.title = title
        self.idle = idle
        self.failed = failed_sign_ins or FailedSignIns(5, timedelta(minutes=5), store.now)
        self.secure = secure  # served over TLS, here or at the proxy in front
        self.behind_proxy = behind_proxy
        self.public_url = public_url.rstrip("/") if public_url else None
        self.auto_sign_in = auto_sign_in  # the demo's teammate, on loopback only
        self.check_interval = check_interval
        self.signed_in = SignedIn()
        self.download_manager = DownloadManager()
        self._checker: asyncio.Task[None] | None = None

    # --- the application -----------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._headers_middleware], client_max_size=64 * 1024)
        app.add_routes(
            [
                web.get("/", self.handle_index),
                web.get("/sign-in", self.handle_sign_in_form),
                web.post("/sign-in", self.handle_sign_in),
                web.get("/link", self.handle_link_form),
                web.post("/link", self.handle_link),
                web.post("/sign-out", self.handle_sign_out),
                web.get("/ws", self.handle_websocket),
                web.static("/static/textual", TEXTUAL_STATIC),
                web.static("/static/inbox", OWN_STATIC),
            ]
        )
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_startup(self, _app: web.Application) -> None:
        self._checker = asyncio.create_task(self._check_sessions(), name="web-session-check")

    async def _on_shutdown(self, _app: web.Application) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
        tabs = [tab for tabs in self.signed_in.tabs.values() for tab in tabs]
        if tabs:
            await asyncio.gather(*(_end_app(tab.service) for tab in tabs))

    @web.middleware
    async def _headers_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            # A plain response (returning the exception itself is deprecated in aiohttp).
            response = web.Response(status=error.status, reason=error.reason, body=error.body, headers=error.headers)
            if response.status >= 400 and not error.body:
                response.text = error.reason
        response.headers.update(security_headers(self._websocket_origin(request)))
        if self.secure and not self.behind_proxy:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    # --- addresses -----------------------------------------------------------

    def client_address(self, request: web.Request) -> str:
        """The browser's address: the proxy's X-Forwarded-For entry when one is declared in
        front (the last entry, the one the proxy itself wrote), else the peer."""
        if self.behind_proxy:
            forwarded = request.headers.get("X-Forwarded-For", "")
            if forwarded.strip():
                return forwarded.split(",")[-1].strip()
        return request.remote or "unknown"

    def _base_url(self, request: web.Request) -> str:
        if self.public_url:
            return self.public_url
        return f"{'https' if self.secure else 'http'}://{request.host}"

    def _websocket_origin(self, request: web.Request) -> str:
        base = self._base_url(request)
        return ("wss" if base.startswith("https") else "ws") + base[base.index(":") :]

    def _same_origin(self, request: web.Request) -> bool:
        """Forms and the tab socket only from this server's own pages."""
        origin = request.headers.get("Origin")
        if origin is None:
            return request.method == "GET" or request.headers.get("Sec-Fetch-Site") in (None, "same-origin")
        return origin.rstrip("/") == self._base_url(request)

    # --- sessions --------------------------------------------------------------

    async def _current(self, request: web.Request) -> tuple[int, AgentRef] | None:
        found = await sign_in.find_session(self.store, request.cookies.get(COOKIE, ""))
        if found is not None:
            self.signed_in.activity[found[0]] = self.store.now()
        return found

    def _with_cookie(self, response: web.StreamResponse, secret: str) -> web.StreamResponse:
        response.set_cookie(COOKIE, secret, path="/", httponly=True, samesite="Strict", secure=self.secure)
        return response

    async def _sign_in_as(self, agent_id: int) -> web.StreamResponse:
        session = await sign_in.start_session(self.store, agent_id, self.idle)
        log.info("@%s signed in", session.agent.handle)
        return self._with_cookie(_redirect("/"), session.secret)

    async def _auto_session(self, request: web.Request) -> sign_in.WebSession | None:
        # Only for a page asked for by a loopback name: a site that points its own name at
        # 127.0.0.1 (DNS rebinding) must not get the demo teammate signed in.
        if self.auto_sign_in is None or not is_loopback_host(request.url.host or ""):
            return None
        async with self.store.read() as session:
            agent_id = await session.scalar(
                Agent.__table__.select().with_only_columns(Agent.id).where(Agent.handle == self.auto_sign_in)
            )
        return None if agent_id is None else await sign_in.start_session(self.store, agent_id, self.idle)

    # --- pages -------------------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        current = await self._current(request)
        secret: str | None = None
        note = None
        if current is None:
            automatic = await self._auto_session(request)
            if automatic is None:
                raise web.HTTPSeeOther("/sign-in")
            current, secret = (automatic.id, automatic.agent), automatic.secret
            note = "demo: signed in automatically on this machine"
        font_size = _to_int(request.query.get("fontsize", "16"), 16, 8, 48)
        page = pages.terminal_page(
            self.title,
            handle=current[1].handle,
            font_size=font_size,
            note=note,
            websocket_url=self._websocket_origin(request) + "/ws",
        )
        response = web.Response(text=page, content_type="text/html")
        return self._with_cookie(response, secret) if secret else response

    async def handle_sign_in_form(self, request: web.Request) -> web.StreamResponse:
        if await self._current(request) is not None:
            raise web.HTTPSeeOther("/")
        return web.Response(text=pages.sign_in_page(self.title), content_type="text/html")

    async def _refuse_if_limited(self, address: str) -> None:
        wait = self.failed.retry_after(address)
        if wait is not None:
            log.warning("sign-in refused for %s: too many failed attempts", address)
            raise web.HTTPTooManyRequests(
                text=pages.sign_in_page(self.title, error=f"Too many failed sign-ins. Try again in {wait:.0f} s."),
                content_type="text/html",
                headers={"Retry-After": str(int(wait))},
            )

    def _failed(self, address: str, how: str) -> web.StreamResponse:
        count = self.failed.failed(address)
        log.warning(
            "failed sign-in (%s) from %s: %d in the last %.0f s",
            how,
            address,
            count,
            self.failed.window.total_seconds(),
        )
        text = pages.sign_in_page(self.title, error="That did not sign you in. Check it and try again.")
        return web.Response(status=401, text=text, content_type="text/html")

    async def handle_sign_in(self, request: web.Request) -> web.StreamResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="sign-in forms come from this server's own page")
        address = self.client_address(request)
        await self._refuse_if_limited(address)
        form = await request.post()
        token = str(form.get("token", "")).strip()
        agent = await _token_agent(self.store, token)
        if agent is None:
            return self._failed(address, "token")
        return await self._sign_in_as(agent)

    async def handle_link_form(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text=pages.link_page(self.title, request.query.get("code", "")), content_type="text/html")

    async def handle_link(self, request: web.Request) -> web.StreamResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="sign-in forms come from this server's own page")
        address = self.client_address(request)
        await self._refuse_if_limited(address)
        form = await request.post()
        session = await sign_in.redeem_sign_in_link(self.store, str(form.get("code", "")).strip(), self.idle)
        if session is None:
            return self._failed(address, "link: unknown, used or expired")
        log.info("@%s signed in with a one-time link", session.agent.handle)
        return self._with_cookie(_redirect("/"), session.secret)

    async def handle_sign_out(self, request: web.Request) -> web.StreamResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="sign-out comes from this server's own page")
        current = await sign_in.find_session(self.store, request.cookies.get(COOKIE, ""))
        response = _redirect("/sign-in")
        response.del_cookie(COOKIE, path="/")
        if current is not None:
            await sign_in.end_session(self.store, current[0])
            log.info("@%s signed out", current[1].handle)
            await self._end_tabs(current[0], "signed out")
        # The sign-in page after a sign-out must not sign the demo teammate in again at once.
        return response

    # --- tabs ----------------------------------------------------------------------

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="the terminal opens from this server's own page")
        secret = request.cookies.get(COOKIE, "")
        current = await self._current(request)
        if current is None:
            raise web.HTTPUnauthorized(text="sign in first")
        session_id, agent = current
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=1024 * 1024)
        width = _to_int(request.query.get("width", "80"), 80, 10, 1000)
        height = _to_int(request.query.get("height", "24"), 24, 5, 500)
        await websocket.prepare(request)
        service = SignedInAppService(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            environment={**self.tab_environment, "INBOX_TOKEN": secret, "INBOX_AGENT": agent.handle},
        )
        tab = Tab(websocket, service)
        self.signed_in.tabs.setdefault(session_id, set()).add(tab)
        try:
            await service.start(width, height)
            await self._relay(websocket, service, session_id)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("a tab failed")
        finally:
            tabs = self.signed_in.tabs.get(session_id, set())
            tabs.discard(tab)
            if not tabs:
                self.signed_in.tabs.pop(session_id, None)
            await _end_app(service)
        return websocket

    async def _relay(self, websocket: web.WebSocketResponse, service: AppService, session_id: int) -> None:
        """The browser's side of textual-serve's protocol: keys, size, focus, pings."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = message.json()
                kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            except (ValueError, TypeError, IndexError, KeyError):
                continue
            if kind == "stdin" and isinstance(data, str):
                self.signed_in.activity[session_id] = self.store.now()
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await service.set_terminal_size(
                    _to_int(str(data.get("width")), 80, 10, 1000), _to_int(str(data.get("height")), 24, 5, 500)
                )
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    async def _end_tabs(self, session_id: int, why: str) -> None:
        for tab in list(self.signed_in.tabs.pop(session_id, set())):
            await tab.websocket.close(code=CLOSE_SIGNED_OUT, message=why.encode())
            await _end_app(tab.service)
        self.signed_in.activity.pop(session_id, None)

    async def _check_sessions(self) -> None:
        """Keep used sessions alive; end the tabs of sessions that ended anywhere (signed
        out, idle past the limit, the teammate's token rotated or removed)."""
        checks = 0
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                await self.check_sessions_once()
                checks += 1
                if checks % FORGET_EVERY_CHECKS == 1:
                    await sign_in.forget_expired(self.store)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the check runs again next round; it must not die
                log.warning("checking web sessions failed: %s", error)

    async def check_sessions_once(self) -> None:
        activity, self.signed_in.activity = self.signed_in.activity, {}
        await sign_in.keep_alive(self.store, activity, self.idle)
        open_sessions = set(self.signed_in.tabs)
        live = await sign_in.live_sessions(self.store, open_sessions)
        for session_id in open_sessions - live:
            log.info("a web session ended (signed out, idle, or its token was rotated or removed)")
            await self._end_tabs(session_id, "session ended")


async def _token_agent(store: Store, token: str) -> int | None:
    """The teammate whose own token this is (web sessions do not sign in here)."""
    if not token:
        return None
    async with store.read() as session:
        return await session.scalar(
            Agent.__table__.select().with_only_columns(Agent.id).where(Agent.token_hash == hash_token(token))
        )


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _to_int(value: str, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(value)))
    except ValueError:
        return default


async def _end_app(service: AppService) -> None:
    """Ask the tab's app to quit; if it has not within the timeout, kill it, so that no
    process outlives its tab or the server whatever state the app was in. The process
    is then reaped and its pipes closed (textual-serve stops at the end of its output)."""
    stopping = asyncio.ensure_future(service.stop())
    done, _ = await asyncio.wait({stopping}, timeout=TAB_QUIT_TIMEOUT)
    process = getattr(service, "_process", None)  # textual-serve keeps it private
    if stopping not in done and process is not None and process.returncode is None:
        log.warning("a tab's app did not quit within %.0f s; killing it", TAB_QUIT_TIMEOUT)
        process.kill()
    await asyncio.wait({stopping}, timeout=TAB_QUIT_TIMEOUT)
    if process is None:
        return
    if process.stdin is not None:
        process.stdin.close()
    try:
        async with asyncio.timeout(TAB_QUIT_TIMEOUT):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
