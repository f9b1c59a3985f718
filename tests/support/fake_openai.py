"""A small OpenAI-compatible HTTP server on loopback for tests: the real ``openai`` SDK
talks to it over HTTP. Each test scripts what the "model" does next."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    """One scripted answer. ``kind``: text | json | tool_call | status | garbage | slow."""

    kind: str = "text"
    content: str = "OK"
    data: dict[str, Any] | None = None
    tool_name: str = "escalate_to_human"
    arguments: dict[str, Any] = field(default_factory=dict)
    status: int = 500
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Retry-After on a status
    finish_reason: str | None = None  # instead of "stop" / "tool_calls"
    raw_arguments: Any = None  # tool call arguments sent as given (an object, not a string)


class FakeOpenAI:
    """``with FakeOpenAI() as fake: fake.push(Behaviour(...)); fake.base_url``.

    Without a scripted behaviour it answers ``default``. ``requests`` keeps every
    request body the server received, for assertions on what the SDK sent."""

    def __init__(self, default: Behaviour | None = None) -> None:
        self.default = default or Behaviour()
        self.queue: deque[Behaviour] = deque()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    behaviour = fake.queue.popleft() if fake.queue else fake.default
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                if behaviour.kind == "status":
                    self._send(
                        behaviour.status,
                        {"error": {"message": "scripted failure", "type": "server_error"}},
                        behaviour.headers,
                    )
                    return
                if behaviour.kind == "garbage":
                    self._send_raw(200, b"{this is not json")
                    return
                message: dict[str, Any] = {"role": "assistant", "content": None}
                finish = "stop"
                if behaviour.kind == "tool_call":
                    message["tool_calls"] = [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {
                                "name": behaviour.tool_name,
                                "arguments": behaviour.raw_arguments
                                if behaviour.raw_arguments is not None
                                else json.dumps(behaviour.arguments),
                            },
                        }
                    ]
                    finish = "tool_calls"
                elif behaviour.kind == "json":
                    message["content"] = json.dumps(behaviour.data or {})
                else:
                    message["content"] = behaviour.content
                finish = behaviour.finish_reason or finish
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "test-model"),
                        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                self._send_raw(status, json.dumps(payload).encode(), headers)

            def _send_raw(self, status: int, raw: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def push(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self.queue.extend(behaviours)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
