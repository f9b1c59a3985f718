"""Debian's Chromium driven by Playwright for Python, never a downloaded browser."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.support.requirements import missing

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NOT_INSTALLED = "Chromium is not installed (Debian: apt-get install chromium)"
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=missing(NOT_INSTALLED))


@asynccontextmanager
async def launched_chromium() -> AsyncIterator[Any]:
    """A headless Chromium for one test, closed after it."""
    if CHROMIUM is None:
        pytest.skip(missing(NOT_INSTALLED))
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
