"""Choose the AI backend from the settings."""

from __future__ import annotations

from inbox_tui.ai.interface import AIBackend
from inbox_tui.ai.offline import OfflineAI
from inbox_tui.settings import Settings, secret


def build_ai(settings: Settings) -> AIBackend:
    if settings.ai.uses_model:
        from inbox_tui.ai.openai_backend import OpenAIBackend

        return OpenAIBackend(
            api_key=secret(settings.ai.api_key),
            base_url=settings.ai.base_url,
            model=settings.ai.model,
            timeout=settings.ai.timeout,
            max_reply_chars=settings.ai.max_reply_chars,
        )
    return build_offline_ai(settings)


def build_offline_ai(settings: Settings) -> OfflineAI:
    """The fallback the flows use when the model is absent, slow or broken."""
    return OfflineAI.from_file(settings.bot.knowledge_file, settings.bot.extra_human_phrases)
