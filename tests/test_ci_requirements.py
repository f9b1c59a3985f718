"""Under ``CI=true`` a test whose requirement (PostgreSQL, tmux, Chromium) is missing
fails the run; elsewhere it skips and says what is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "tests.support.requirements", "-p", "no:cacheprovider"]
A_TEST_MISSING_A_PROGRAM = """
import pytest
from tests.support.requirements import missing, requires_program

@requires_program("no-such-program-anywhere", "apt-get install it")
def test_marked():
    pass

def test_skipped_in_the_body():
    pytest.skip(missing("no PostgreSQL server reachable"))

def test_an_ordinary_skip_stays_a_skip():
    pytest.skip("not relevant on this platform")
"""


def _run(tmp_path: Path, ci: str | None) -> tuple[int, str]:
    (tmp_path / "test_needs_things.py").write_text(A_TEST_MISSING_A_PROGRAM, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    if ci is not None:
        env["CI"] = ci
    run = subprocess.run(
        [*PYTEST, "-c", "/dev/null", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    return run.returncode, run.stdout.splitlines()[-1]


@pytest.mark.parametrize("ci", ["true"])
def test_a_missing_requirement_fails_on_ci(tmp_path: Path, ci: str) -> None:
    code, summary = _run(tmp_path, ci)
    # A skip from a marker happens in setup (an error), one from the body in the call (a failure).
    assert code == 1 and "1 failed, 1 skipped, 1 error" in summary


@pytest.mark.parametrize("ci", [None])
def test_a_missing_requirement_skips_with_its_reason_elsewhere(tmp_path: Path, ci: str | None) -> None:
    code, summary = _run(tmp_path, ci)
    assert code == 0 and summary.startswith("3 skipped")
