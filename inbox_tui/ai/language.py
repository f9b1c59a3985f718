"""Language detection for short chat text, in little memory.

Two small detectors give two opinions, restricted to the languages the product speaks
(en, es, de, fr, pt, it, plus any language the team configured a handoff text for):

- Lingua (lingua-language-detector) in its low-accuracy mode: trigram models only,
  about 15 MiB for six languages, where its high-accuracy mode holds 30 MiB per
  language (417 MiB for the sixteen languages this module used to load);
- CLD3 (cld3-py, Google's compact neural detector): about 3 MiB.

Both ship their models inside their wheels: nothing is downloaded at run time.
Each alone guesses wrong on one short line in twenty ("Where is my order?" as German);
together they are trusted when they agree, or when one of them is very sure. Otherwise
the answer is None and the hello's locale decides. ``benchmarks/bench_language.py``
prints memory and accuracy on short chat lines for each set-up.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable

import gcld3
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

#: The languages with built-in texts (fallback, handoff, offer).
BUILT_IN = ("en", "es", "de", "fr", "pt", "it")
_LETTERS = re.compile(r"\w", re.UNICODE)
_MIN_LETTERS = 8
#: Lingua alone is trusted when its best language leads the next by this much...
LINGUA_SURE = 0.9
#: ...CLD3 alone when it gives its best language this probability.
CLD3_SURE = 0.9

_languages: tuple[str, ...] = BUILT_IN
_lock = threading.Lock()


def configure(languages: Iterable[str]) -> None:
    """Detect these ISO 639-1 codes (besides the built-in six); unknown codes are skipped."""
    global _languages
    codes = dict.fromkeys([*BUILT_IN, *(c.lower().split("-")[0] for c in languages)])
    supported = {language.iso_code_639_1.name.lower() for language in Language.all()}
    chosen = tuple(c for c in codes if c in supported)
    with _lock:
        if chosen != _languages:
            _languages = chosen
            _lingua.cache_clear()


@functools.cache
def _lingua() -> LanguageDetector:
    codes = [IsoCode639_1.from_str(c) for c in _languages]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_low_accuracy_mode().build()


_per_thread = threading.local()


def _cld3() -> gcld3.NNetLanguageIdentifier:
    # One identifier per thread: detection also runs in worker threads, and CLD3's
    # identifier keeps per-call state. Its weights are static data, shared.
    identifier = getattr(_per_thread, "cld3", None)
    if identifier is None:
        identifier = _per_thread.cld3 = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
    return identifier


def preload(languages: Iterable[str] = ()) -> None:
    """Load the models now instead of on the first customer message."""
    if languages:
        configure(languages)
    detect_language("preload the language models")


def _lingua_opinion(text: str) -> tuple[str | None, float]:
    """Lingua's best language and its lead over the next one."""
    values = _lingua().compute_language_confidence_values(text)
    if not values:
        return None, 0.0
    lead = values[0].value - (values[1].value if len(values) > 1 else 0.0)
    return values[0].language.iso_code_639_1.name.lower(), lead


def _cld3_opinion(text: str) -> tuple[str | None, float]:
    """CLD3's most likely language among ours, and its probability."""
    for result in _cld3().FindTopNMostFreqLangs(text, 5):
        code = result.language.split("-")[0]
        if code in _languages:
            return code, result.probability
    return None, 0.0


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when it is too short or the
    detectors are not sure enough (then the hello's locale decides)."""
    if len(_LETTERS.findall(text)) < _MIN_LETTERS:
        return None
    lingua, lead = _lingua_opinion(text)
    cld3, probability = _cld3_opinion(text)
    if lingua is not None and lingua == cld3:
        return lingua
    if lingua is not None and lead >= LINGUA_SURE:
        return lingua
    if cld3 is not None and probability >= CLD3_SURE:
        return cld3
    return None


def language_set() -> tuple[str, ...]:
    return _languages


__all__ = ["BUILT_IN", "Language", "configure", "detect_language", "language_set", "preload"]
