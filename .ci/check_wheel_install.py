"""A non-editable install works: build the wheel, install it in a fresh virtual
environment, start ``inbox-tui demo --no-tui`` from there (outside the source tree) and
have a customer get an answer from the bot over the customer protocol. Also checks that
the bundled themes load from the installed package.

Bounded in time: every step has a timeout; loopback only. Exit status 0 when it works.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_SECONDS = 300
INSTALL_SECONDS = 900
START_SECONDS = 90
ANSWER_SECONDS = 60

# Run by the installed interpreter: a customer asks, the bot answers.
CUSTOMER = r"""
import asyncio, json, sys
import websockets

async def main(url: str) -> None:
    async with websockets.connect(url + "/chat", open_timeout=10) as ws:
        await ws.send(json.dumps({"type": "hello", "channel": "web", "customer": {"id": "wheel-check"}}))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert welcome["type"] == "welcome", welcome
        await ws.send(json.dumps({"type": "message", "text": "How long does shipping take?", "client_id": "c1"}))
        async with asyncio.timeout(ANSWER_SECONDS):
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("type") == "message" and frame.get("author") == "bot":
                    print("bot:", frame["text"][:80])
                    return

asyncio.run(main(sys.argv[1]))
""".replace("ANSWER_SECONDS", str(ANSWER_SECONDS))

THEMES = r"""
import sys, sysconfig
from inbox_tui.tui.themes import BUNDLED_THEMES_DIR, load_themes
themes, problems = load_themes(BUNDLED_THEMES_DIR)
names = sorted(t.name for t in themes)
assert {"inbox-dark", "inbox-light", "inbox-high-contrast"} <= set(names), (BUNDLED_THEMES_DIR, names)
assert not problems, problems
assert str(BUNDLED_THEMES_DIR).startswith(sysconfig.get_paths()["purelib"]), BUNDLED_THEMES_DIR
print("themes:", ", ".join(names), "from", BUNDLED_THEMES_DIR)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(command: list[str], timeout: float, **kwargs: object) -> None:
    shown = [part if "\n" not in part else "<script>" for part in command]
    print("+", " ".join(shown), flush=True)
    subprocess.run(command, check=True, timeout=timeout, **kwargs)  # type: ignore[call-overload]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="inbox-wheel-") as scratch:
        work = Path(scratch)
        run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
            BUILD_SECONDS,
        )
        wheel = next((work / "dist").glob("inbox_tui-*.whl"))
        run([sys.executable, "-m", "venv", str(work / "venv")], 120)
        python = work / "venv" / "bin" / "python"
        run([str(python), "-m", "pip", "install", "-q", str(wheel)], INSTALL_SECONDS)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("INBOX_", "OPENAI_", "PYTHON"))}
        env.update(INBOX_DATA_DIR=str(work / "data"), INBOX_CONFIG_DIR=str(work / "config"), INBOX_AI="offline")
        run([str(python), "-c", THEMES], 60, cwd=work, env=env)
        port = free_port()
        demo = subprocess.Popen(
            [str(work / "venv" / "bin" / "inbox-tui"), "demo", "--no-tui", "--no-customers", "--port", str(port)],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            assert demo.stdout is not None
            deadline = time.monotonic() + START_SECONDS
            url = None
            seen: list[str] = []
            while url is None and time.monotonic() < deadline and demo.poll() is None:
                line = demo.stdout.readline()
                seen.append(line)
                if match := re.search(r"demo server: (ws://\S+)", line):
                    url = match.group(1)
            if url is None:
                print("the installed demo did not start:\n" + "".join(seen), file=sys.stderr)
                return 1
            run([str(python), "-c", CUSTOMER, url], ANSWER_SECONDS + 30, cwd=work, env=env)
        finally:
            try:
                os.killpg(demo.pid, signal.SIGTERM)
            except ProcessLookupError:  # it already stopped (and said why above)
                pass
            try:
                demo.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait(10)
    print("wheel install: the demo starts and answers a customer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
