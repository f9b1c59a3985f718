"""The sort order each list view was left in, per teammate, across view switches and
restarts.

Kept in a small JSON file in the data directory beside the drafts, not in the database:
how one person likes a list sorted is their terminal's business, and a change must not
wake every other client through the event log. Read leniently (a missing or broken file
means every view is newest first), written atomically (temp file + rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from inbox_tui.core.attention import SortOrder
from inbox_tui.core.views import View
from inbox_tui.settings import data_dir


class ViewOrders:
    def __init__(self, path: Path | None) -> None:
        """``path`` None: remembered for this run only (before anyone signed in)."""
        self.path = path
        self._orders: dict[View, SortOrder] = {}
        self._load()

    @classmethod
    def for_agent(cls, handle: str | None) -> ViewOrders:
        return cls(data_dir() / f"view-orders-{handle or 'anonymous'}.json")

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(raw, dict):
            return
        views = {view.value: view for view in View}
        orders = {order.value: order for order in SortOrder}
        for view, order in raw.items():
            if view in views and isinstance(order, str) and order in orders:
                self._orders[views[view]] = orders[order]

    def get(self, view: View) -> SortOrder:
        return self._orders.get(view, SortOrder.NEWEST)

    def set(self, view: View, order: SortOrder) -> None:
        if self.get(view) is order:
            return
        self._orders[view] = order
        self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {view.value: order.value for view, order in self._orders.items()}
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".view-orders-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
