"""The AI interface: one protocol, an OpenAI-compatible backend and an offline one."""

from inbox_tui.ai.interface import (
    AIBackend,
    AIError,
    AIUnavailable,
    BotReply,
    TicketSummary,
    TranscriptLine,
)

__all__ = ["AIBackend", "AIError", "AIUnavailable", "BotReply", "TicketSummary", "TranscriptLine"]
