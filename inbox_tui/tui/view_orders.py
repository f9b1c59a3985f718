"""The sort order each list view was left in, per teammate, across view switches and
restarts.

Kept in a small JSON file in the data directory beside the drafts, not in the database:
how one person likes a list sorted is their terminal's business, and a change must not
wake every other client through the event log. Read leniently (a missing or broken file
means every view is newest first), written atomically (``core.private_files``).
"""

from __future__ import annotations

from pathlib import Path

from inbox_tui.core.attention import SortOrder
from inbox_tui.core.private_files import read_json_object, write_private_json
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
        views = {view.value: view for view in View}
        orders = {order.value: order for order in SortOrder}
        for view, order in read_json_object(self.path).items():
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
        if self.path is not None:
            write_private_json(self.path, {view.value: order.value for view, order in self._orders.items()})
