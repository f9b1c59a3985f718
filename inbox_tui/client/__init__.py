"""Clients of the chat channel server (the customer side of ``/chat``)."""

from inbox_tui.client.customer import ChatError, CustomerClient

__all__ = ["ChatError", "CustomerClient"]
