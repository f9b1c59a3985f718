"""Malformed input for ``/chat`` and ``/bridge``, with the answer each must get.

Importable (the fault suite replays it too)::

    from tests.channel.malformed_corpus import CORPUS, play
    outcome = await play(server_url, case, token=..., conversation=...)

Each :class:`Case` is one frame sent on a connection in a given phase (``first``: the
first frame, before a hello or auth; ``session``: after a welcome or ready), with the
error codes and close codes the protocol allows for it. :func:`play` sends it on a fresh
connection and reports what came back.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

#: The server's frame limit the corpus is written for (``[server] max_frame_bytes``).
FRAME_LIMIT = 16 * 1024
#: The server's message length limit the corpus is written for.
MESSAGE_LIMIT = 4000
TOKEN = "%TOKEN%"  # replaced by a valid bridge token
CONVERSATION = "%CONVERSATION%"  # replaced by an existing conversation's public id


@dataclass(frozen=True)
class Case:
    name: str
    endpoint: str  # "/chat" or "/bridge"
    phase: str  # "first" or "session"
    frame: str | bytes
    codes: frozenset[str]  # error codes allowed; empty: no error frame, a close instead
    closes: frozenset[int] = frozenset()  # close codes allowed after it; empty: stays open


@dataclass
class Outcome:
    error: dict[str, Any] | None = None
    close_code: int | None = None
    timed_out: bool = False
    others: list[dict[str, Any]] = field(default_factory=list)

    def problems(self, case: Case) -> list[str]:
        found = ["no answer in time"] if self.timed_out else []
        if case.codes and (self.error is None or self.error.get("code") not in case.codes):
            found.append(f"expected an error in {sorted(case.codes)}, got {self.error}")
        if not case.codes and self.error is not None:
            found.append(f"expected no error frame, got {self.error}")
        if case.closes and self.close_code not in case.closes:
            found.append(f"expected a close in {sorted(case.closes)}, got {self.close_code}")
        if not case.closes and self.close_code is not None:
            found.append(f"expected the connection to stay open, closed with {self.close_code}")
        if self.error is not None and not isinstance(self.error.get("message"), str):
            found.append(f"an error frame without a message: {self.error}")
        return found


# -- building the corpus -----------------------------------------------------------------

NOT_JSON = [
    "",
    " ",
    "{",
    "}",
    "nope",
    "{'type': 'hello'}",
    '{"type":',
    '{"type": "hello"} trailing',
    '{"type": "hello",}',
    "\x00",
    "NaN",
    "Infinity",
    "-",
    "1e",
    "tru",
    '"unterminated',
    '{"type": "hello" "channel": "web"}',
    "\ufeff{}",
    '{"type": "hello", "customer": {"id": "c1"}',
    '{"type": "message", "text": "\\x41"}',
    '{"type": "message", "text": "\\u12"}',
    "/* */ {}",
    '{"type": NaN}',
    '{"a": Infinity, "type": "hello"}',
    "\t\n",
    "\\u0000",
]
NOT_OBJECT = [
    "1",
    "-0",
    "true",
    "false",
    "null",
    '"hello"',
    "[]",
    '[{"type": "hello"}]',
    "1e999",
    "123456789012345678901234567890",
    '{"no_type": 1}',
    '{"Type": "hello"}',
    "{}",
    '{"type": 1}',
    '{"type": null}',
    '{"type": ["hello"]}',
    '{"type": {"hello": 1}}',
    '{"type": true}',
]
UNKNOWN_TYPES = [
    "subscribe",
    "HELLO",
    "Hello",
    "",
    " hello",
    "hello ",
    "typing",
    "welcome",
    "ack",
    "error",
    "mode",
    "x" * 1000,
    "é" * 200,
    "\\u0000",
    "\\u001b[31m",
    "[b]bold[/b]",
    "../../etc/passwd",
    "message\\u0000",
    "pong",
    "ready",
    "event",
]
SURROGATES = ["\\ud800", "\\udfff", "x\\udbff", "\\udc00y", "\\ud83d"]
NUL = ["\\u0000", "a\\u0000b"]
WRONG_VALUES = [
    "1",
    "-1",
    "1.5",
    "true",
    "null",
    "[]",
    "{}",
    '["x"]',
    '{"text": "x"}',
    "1e999",
    "18446744073709551616",
    "-9223372036854775809",
]


def _deep(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def _deep_object(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def _cases_on_both(
    endpoint: str, phase: str, bad_json: set[str], bad_frame: set[str], unknown: set[str], closes: set[int]
) -> list[Case]:
    """Input both endpoints refuse the same way (with the codes each uses in that phase)."""
    c: list[Case] = []

    def add(name: str, frame: str | bytes, codes: set[str]) -> None:
        c.append(Case(f"{endpoint} {phase}: {name}", endpoint, phase, frame, frozenset(codes), frozenset(closes)))

    for n, text in enumerate(NOT_JSON):
        add(f"not JSON #{n}", text, bad_json)
    for n, text in enumerate(NOT_OBJECT):
        add(f"not an object with a type #{n}", text, bad_json)
    for depth in (17, 50, 1000, 2000, 5000):
        add(f"arrays nested {depth} deep", _deep(depth), bad_frame)
        add(f"objects nested {depth} deep", _deep_object(min(depth, 2000)), bad_frame)
        add(f"a frame holding arrays nested {depth} deep", '{"type": "ping", "x": ' + _deep(depth) + "}", bad_frame)
    add("mixed nesting", '{"type": "ping", "x": ' + '[{"a": ' * 40 + "1" + "}]" * 40 + "}", bad_frame)
    for n, binary in enumerate([b"", b"\x00", b'{"type": "hello"}', b"\xff\xfe", bytes(range(256))]):
        add(f"binary frame #{n}", binary, bad_frame)
    for n, kind in enumerate(UNKNOWN_TYPES):
        add(f"unknown type #{n}", f'{{"type": "{kind}"}}', unknown)
    for n, bad in enumerate(SURROGATES):
        add(f"lone surrogate in the type #{n}", f'{{"type": "{bad}"}}', bad_frame)
    return c


def _chat_cases() -> list[Case]:
    first_open = _cases_on_both("/chat", "first", {"bad_json"}, {"bad_frame"}, {"unknown_type"}, set())
    session_open = _cases_on_both("/chat", "session", {"bad_json"}, {"bad_frame"}, {"unknown_type"}, set())
    c = first_open + session_open

    def add(phase: str, name: str, frame: str | bytes, *codes: str, closes: tuple[int, ...] = ()) -> None:
        c.append(Case(f"/chat {phase}: {name}", "/chat", phase, frame, frozenset(codes), frozenset(closes)))

    for phase in ("first", "session"):
        add(
            phase,
            "over the size limit by one byte",
            json.dumps({"type": "message", "text": "x" * FRAME_LIMIT}),
            "too_large",
        )
        add(
            phase,
            "over the limit in bytes, not in characters",
            json.dumps({"type": "message", "text": "€" * (FRAME_LIMIT // 3 + 10)}, ensure_ascii=False),
            "too_large",
        )
        add(phase, "3× the size limit", "x" * (FRAME_LIMIT * 3), "too_large")
        add(phase, "far over the size limit", "x" * (FRAME_LIMIT * 4 + 1), closes=(1009,))
    hello_codes = {"first": ("bad_frame",), "session": ("bad_frame", "already_started")}
    message_codes = {"first": ("bad_message", "bad_frame", "hello_required"), "session": ("bad_message",)}
    for phase in ("first", "session"):
        for n, value in enumerate(WRONG_VALUES):
            add(
                phase,
                f"hello with customer = {value} #{n}",
                f'{{"type": "hello", "customer": {value}}}',
                *hello_codes[phase],
            )
            add(
                phase,
                f"hello with customer.id = {value} #{n}",
                f'{{"type": "hello", "customer": {{"id": {value}}}}}',
                *hello_codes[phase],
            )
            add(
                phase,
                f"message with text = {value} #{n}",
                f'{{"type": "message", "text": {value}, "client_id": "w{n}"}}',
                *message_codes[phase],
            )
            if value != "null":  # (a message without a client id is valid)
                add(
                    phase,
                    f"message with client_id = {value} #{n}",
                    f'{{"type": "message", "text": "hi", "client_id": {value}}}',
                    *message_codes[phase],
                )
        for field_name in ("channel", "conversation_id", "token"):
            add(
                phase,
                f"hello with {field_name} a number",
                f'{{"type": "hello", "{field_name}": 5, "customer": {{"id": "c"}}}}',
                *hello_codes[phase],
            )
        for field_name, limit in (("id", 200), ("name", 200), ("email", 320), ("locale", 16)):
            add(
                phase,
                f"hello with customer.{field_name} too long",
                json.dumps({"type": "hello", "customer": {"id": "c", field_name: "x" * (limit + 1)}}),
                *hello_codes[phase],
            )
        add(
            phase,
            "hello with a channel too long",
            json.dumps({"type": "hello", "channel": "w" * 33, "customer": {"id": "c"}}),
            *hello_codes[phase],
        )
        add(
            phase,
            "hello with a blank customer id",
            json.dumps({"type": "hello", "customer": {"id": "   "}}),
            *hello_codes[phase],
        )
        add(phase, "hello with no customer", json.dumps({"type": "hello", "channel": "web"}), *hello_codes[phase])
        add(
            phase,
            "resume without a token",
            json.dumps({"type": "hello", "conversation_id": CONVERSATION}),
            *hello_codes[phase],
        )
        for n, bad in enumerate(SURROGATES + NUL):
            add(
                phase,
                f"unstorable text in customer.id #{n}",
                f'{{"type": "hello", "customer": {{"id": "c{bad}"}}}}',
                "bad_frame",
            )
            add(
                phase,
                f"unstorable text in customer.name #{n}",
                f'{{"type": "hello", "customer": {{"id": "c", "name": "{bad}"}}}}',
                "bad_frame",
            )
            add(
                phase,
                f"unstorable text in message text #{n}",
                f'{{"type": "message", "text": "hi {bad}", "client_id": "u{n}"}}',
                *(("bad_frame",) if phase == "session" else ("bad_frame", "hello_required")),
            )
            add(
                phase,
                f"unstorable text in client_id #{n}",
                f'{{"type": "message", "text": "hi", "client_id": "{bad}"}}',
                *(("bad_frame",) if phase == "session" else ("bad_frame", "hello_required")),
            )
    for n, token in enumerate(["wrong", "x" * 200, "%TOKEN%", " "]):
        add(
            "first",
            f"resume with a wrong token #{n}",
            json.dumps({"type": "hello", "conversation_id": CONVERSATION, "token": token}),
            "not_found",
        )
    for n, conversation in enumerate(["00000000-0000-0000-0000-000000000000", "nope", "1", "' OR 1=1 --", "x" * 64]):
        add(
            "first",
            f"resume an unknown conversation #{n}",
            json.dumps({"type": "hello", "conversation_id": conversation, "token": "t"}),
            "not_found",
        )
    add(
        "first",
        "resume with an empty conversation id",
        json.dumps({"type": "hello", "conversation_id": "", "token": "t"}),
        "not_found",
        "bad_frame",
    )
    add(
        "first",
        "a valid message before any hello",
        json.dumps({"type": "message", "text": "hi", "client_id": "a"}),
        "hello_required",
    )
    add("session", "a second hello", json.dumps({"type": "hello", "customer": {"id": "again"}}), "already_started")
    for n, text in enumerate(["", "   ", "\n\t", "x" * (MESSAGE_LIMIT + 1)]):
        add(
            "session",
            f"empty or too long text #{n}",
            json.dumps({"type": "message", "text": text, "client_id": f"e{n}"}),
            "bad_message",
        )
    add("session", "an empty client_id", json.dumps({"type": "message", "text": "hi", "client_id": ""}), "bad_message")
    add(
        "session",
        "a client_id too long",
        json.dumps({"type": "message", "text": "hi", "client_id": "c" * 101}),
        "bad_message",
    )
    return c


def _bridge_cases() -> list[Case]:
    refused = {4001}
    c = _cases_on_both("/bridge", "first", {"bad_frame"}, {"bad_frame"}, {"bad_frame"}, refused)
    c += _cases_on_both("/bridge", "session", {"bad_json"}, {"bad_frame"}, {"unknown_type"}, set())

    def add(phase: str, name: str, frame: str | bytes, *codes: str, closes: tuple[int, ...] = ()) -> None:
        c.append(Case(f"/bridge {phase}: {name}", "/bridge", phase, frame, frozenset(codes), frozenset(closes)))

    for n, token in enumerate(["", "wrong", "x" * 512, "%TOKEN%x", " %TOKEN%", "%TOKEN%".lower(), "null"]):
        add(
            "first",
            f"a wrong token #{n}",
            json.dumps({"type": "auth", "token": token, "last_event_id": 0}),
            "unauthorized",
            closes=(4001,),
        )
    add("first", "no token", json.dumps({"type": "auth"}), "unauthorized", closes=(4001,))
    add("first", "a token too long", json.dumps({"type": "auth", "token": "x" * 513}), "bad_frame", closes=(4001,))
    for n, value in enumerate(
        [
            "-1",
            "1.5",
            "true",
            "[]",
            "{}",
            '["x"]',
            '{"text": "x"}',
            "1e999",
            '"12"',
            "9223372036854775808",
            "18446744073709551616",
            "1e20",
            "-9223372036854775809",
        ]
    ):
        add(
            "first",
            f"last_event_id = {value} #{n}",
            f'{{"type": "auth", "token": "{TOKEN}", "last_event_id": {value}}}',
            "bad_frame",
            closes=(4001,),
        )
    for n, value in enumerate([v for v in WRONG_VALUES if v != "null"]):
        add("first", f"token = {value} #{n}", f'{{"type": "auth", "token": {value}}}', "bad_frame", closes=(4001,))
    add(
        "first",
        "last_event_id above the head",
        json.dumps({"type": "auth", "token": TOKEN, "last_event_id": 10**15}),
        "ahead_of_log",
        closes=(1008,),
    )
    for n, bad in enumerate(SURROGATES + NUL):
        add(
            "first",
            f"unstorable text in the token #{n}",
            f'{{"type": "auth", "token": "{bad}"}}',
            "bad_frame",
            closes=(4001,),
        )
    add("first", "a ping before auth", json.dumps({"type": "ping"}), "bad_frame", closes=(4001,))
    add("first", "far over the size limit", "x" * (FRAME_LIMIT * 4 + 1), closes=(1009,))
    add("session", "a second auth", json.dumps({"type": "auth", "token": TOKEN}), "unknown_type")
    add("session", "a ping with extra fields", json.dumps({"type": "ping", "x": [1, 2]}))  # answered with pong
    add("session", "far over the size limit", "x" * (FRAME_LIMIT * 4 + 1), closes=(1009,))
    return c


CORPUS: list[Case] = _chat_cases() + _bridge_cases()


# -- playing a case ----------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    """What the cases' placeholders and session openings need from the server under test."""

    token: str  # a valid bridge token
    conversation: str  # an existing conversation's public id
    conversation_token: str  # and its token


def _filled(frame: str | bytes, fixture: Fixture) -> str | bytes:
    if isinstance(frame, bytes):
        return frame
    return frame.replace(TOKEN, fixture.token).replace(CONVERSATION, fixture.conversation)


async def _open(url: str, case: Case, fixture: Fixture) -> ClientConnection:
    connection = await connect(url + case.endpoint, max_size=None, open_timeout=10)
    if case.phase == "session":
        if case.endpoint == "/chat":  # resumes, so the opening itself writes nothing
            await connection.send(
                json.dumps(
                    {"type": "hello", "conversation_id": fixture.conversation, "token": fixture.conversation_token}
                )
            )
            expected = "welcome"
        else:
            await connection.send(json.dumps({"type": "auth", "token": fixture.token}))
            expected = "ready"
        answer = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert answer["type"] == expected, answer
    return connection


async def _next_answer(connection: ClientConnection) -> dict[str, Any]:
    """The next error or pong (events and messages of the session are skipped)."""
    while True:
        frame = json.loads(await connection.recv())
        if frame.get("type") in ("error", "pong"):
            return frame


async def play(url: str, case: Case, fixture: Fixture, *, timeout: float = 5.0) -> Outcome:
    """Send the case's frame on a fresh connection and report what came back: its error
    frame, and the server's close code (None when the connection stayed open, which a
    ping or a probe frame then proves)."""
    outcome = Outcome()
    connection = await _open(url, case, fixture)
    try:
        await connection.send(_filled(case.frame, fixture))
        async with asyncio.timeout(timeout):
            answer = await _next_answer(connection)
            if answer["type"] == "error":
                outcome.error = answer
            else:
                outcome.others.append(answer)
            if case.closes:
                await _next_answer(connection)  # nothing more should come: the close
            else:
                probe = '{"type": "ping"}' if case.endpoint == "/bridge" else '{"type": "probe"}'
                await connection.send(probe)
                await _next_answer(connection)
    except ConnectionClosed as closed:
        outcome.close_code = closed.rcvd.code if closed.rcvd is not None else 1006
    except TimeoutError:
        outcome.timed_out = True
    finally:
        await connection.close()
    return outcome
