"""Language detection for short chat text.

Lingua (lingua-language-detector) is built for short and mixed-language text, where
n-gram detectors trained on documents (langdetect, langid) guess wildly on a single
chat line; it ships its models inside the wheel, so nothing is downloaded at run time.
We restrict it to the languages a support team is likely to meet, which makes it both
more accurate and lighter, and refuse to guess when the text is too short or ambiguous.
"""

from __future__ import annotations

import functools
import re

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED = (
    Language.ENGLISH, Language.SPANISH, Language.GERMAN, Language.FRENCH,
    Language.PORTUGUESE, Language.ITALIAN, Language.DUTCH, Language.POLISH,
    Language.SWEDISH, Language.TURKISH, Language.RUSSIAN, Language.UKRAINIAN,
    Language.ARABIC, Language.JAPANESE, Language.CHINESE, Language.KOREAN,
)
_LETTERS = re.compile(r"\w", re.UNICODE)
_MIN_LETTERS = 8


@functools.cache
def _detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*SUPPORTED)
        .with_minimum_relative_distance(0.1)
        .build()
    )


def preload() -> None:
    """Load the models now (about 2 s) instead of on the first customer message."""
    _detector().detect_language_of("preload the language models")


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when it is too short to tell."""
    if len(_LETTERS.findall(text)) < _MIN_LETTERS:
        return None
    language = _detector().detect_language_of(text)
    return language.iso_code_639_1.name.lower() if language else None
