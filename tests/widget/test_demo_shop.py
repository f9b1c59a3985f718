"""``inbox-tui demo`` serves a shop page with the widget, on its own origin, under a
strict Content-Security-Policy, and prints its address."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from inbox_tui.demo.launch import connect_hint
from inbox_tui.demo.services import run_demo_services
from inbox_tui.settings import load_settings


async def test_the_demo_serves_a_shop_page_with_the_widget(tmp_path: Path) -> None:
    settings = load_settings(None, environ={})
    async with run_demo_services(settings, customers=False, directory=tmp_path) as services:
        assert services.shop_url.startswith("http://127.0.0.1:") and services.shop_url.endswith("/")
        assert services.shop_url in connect_hint(services)
        widget_url = f"http://127.0.0.1:{services.port}/widget.js"
        async with aiohttp.ClientSession() as http:
            async with http.get(services.shop_url) as response:
                assert response.status == 200
                page = await response.text()
                policy = response.headers["Content-Security-Policy"]
            async with http.get(widget_url) as response:
                assert response.status == 200
        assert f'<script src="{widget_url}" data-title="Velora Bikes"' in page
        assert f"script-src http://127.0.0.1:{services.port};" in policy
        assert f"connect-src ws://127.0.0.1:{services.port};" in policy
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    async with aiohttp.ClientSession() as http:
        try:
            async with http.get(services.shop_url):
                raise AssertionError("the shop is still up after the demo stopped")
        except aiohttp.ClientConnectionError:
            pass
