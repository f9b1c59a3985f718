"""Tests that need something outside Python (PostgreSQL, tmux, Chromium) skip with a
clear reason when it is missing on a developer's machine. Under ``CI=true`` the same
tests FAIL instead: a CI run that silently skipped the PostgreSQL races or the browser
tests would pass without checking them.

Use ``missing(...)`` for the skip reason (or ``requires_program``); the hook below (a
pytest plugin hook, imported into ``tests/conftest.py``) turns those skips into failures
on CI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator
from typing import Any

import pytest

MISSING = "missing requirement: "


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing(what: str) -> str:
    """The skip reason for a test whose requirement ``what`` is absent."""
    return MISSING + what


def requires_program(name: str, hint: str) -> pytest.MarkDecorator:
    """Skip (fail under ``CI=true``) when the program ``name`` is not on PATH."""
    return pytest.mark.skipif(shutil.which(name) is None, reason=missing(f"{name} is not installed ({hint})"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.skipped and on_ci() and MISSING in str(report.longrepr):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"CI=true and a test's requirement is absent, so it fails instead of skipping: {reason}"
    return report
