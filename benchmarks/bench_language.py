"""Memory and accuracy of language detector set-ups on short chat lines.

    python benchmarks/bench_language.py

Each set-up runs in a fresh interpreter: it builds a lingua detector, detects every
line of the phrasing sets (tests/ai/data/human_requests*.tsv) and of the demo customers'
scripts, and reports the resident memory the detector added (RSS after minus RSS
before importing lingua), the share of lines detected right, the share it would not
guess (None: the hello's language decides) and the share guessed wrong.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SETUPS = {
    "lingua, 16 languages, high accuracy (before)": ("sixteen", False, True),
    "lingua, 6 languages, high accuracy": ("six", False, True),
    "lingua, 6 languages, high accuracy, lazy (idle)": ("six", False, False),
    "lingua, 16 languages, low accuracy": ("sixteen", True, True),
    "lingua, 6 languages, low accuracy": ("six", True, True),
    "cld3 alone (probability >= 0.5)": ("cld3", False, True),
    "lingua low + cld3, inbox_tui.ai.language (chosen)": ("chosen", False, True),
}

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
from inbox_tui.demo.scripts import ALL_SCRIPTS
lines = []
for name in ("human_requests.tsv", "human_requests_holdout.tsv"):
    for row in open(sys.argv[1] + "/tests/ai/data/" + name, encoding="utf-8"):
        if row.strip() and not row.startswith("#"):
            language, _label, text = row.rstrip("\n").split("\t", 2)
            lines.append((language, text))
for script in ALL_SCRIPTS:
    for text in script.opening + script.to_teammate + ((script.farewell,) if script.farewell else ()):
        lines.append((script.persona.language, text))
before = rss_kib()
languages, low, preload = sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1"
if languages == "chosen":
    from inbox_tui.ai.language import detect_language, preload as load
    load()
    idle = rss_kib()
elif languages == "cld3":
    import gcld3
    cld3 = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
    def detect_language(text):
        found = [r for r in cld3.FindTopNMostFreqLangs(text, 5) if r.language in ("en", "es", "de", "fr", "pt", "it")]
        return found[0].language if found and found[0].probability >= 0.5 else None
    detect_language("preload")
    idle = rss_kib()
else:
    detect_language = None
from lingua import Language, LanguageDetectorBuilder
six = [Language.ENGLISH, Language.SPANISH, Language.GERMAN, Language.FRENCH, Language.PORTUGUESE, Language.ITALIAN]
sixteen = six + [Language.DUTCH, Language.POLISH, Language.SWEDISH, Language.TURKISH, Language.RUSSIAN,
                 Language.UKRAINIAN, Language.ARABIC, Language.JAPANESE, Language.CHINESE, Language.KOREAN]
builder = LanguageDetectorBuilder.from_languages(*(six if languages == "six" else sixteen))
builder = builder.with_minimum_relative_distance(0.1)
if low:
    builder = builder.with_low_accuracy_mode()
if preload:
    builder = builder.with_preloaded_language_models()
if detect_language is None:
    detector = builder.build()
    idle = rss_kib()
    def detect_language(text):
        found = detector.detect_language_of(text) if len([c for c in text if c.isalnum()]) >= 8 else None
        return found.iso_code_639_1.name.lower() if found else None
import time
right = unsure = wrong = 0
started = time.perf_counter()
for language, text in lines:
    code = detect_language(text)
    if code is None:
        unsure += 1
    elif code == language:
        right += 1
    else:
        wrong += 1
elapsed = time.perf_counter() - started
print(json.dumps({"idle_mib": (idle - before) / 1024, "after_mib": (rss_kib() - before) / 1024,
                  "lines": len(lines), "right": right, "unsure": unsure, "wrong": wrong,
                  "us_per_line": elapsed / len(lines) * 1e6}))
"""


def main() -> None:
    print(f"{'set-up':<52}{'idle MiB':>9}{'after MiB':>10}{'right':>8}{'unsure':>8}{'wrong':>7}{'µs/line':>9}")
    for name, (languages, low, preload) in SETUPS.items():
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), languages, "1" if low else "0", "1" if preload else "0"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out)
        n = r["lines"]
        print(
            f"{name:<52}{r['idle_mib']:>9.1f}{r['after_mib']:>10.1f}{r['right'] / n:>8.1%}"
            f"{r['unsure'] / n:>8.1%}{r['wrong'] / n:>7.1%}{r['us_per_line']:>9.0f}"
        )
    print(f"({n} short lines: the phrasing sets and the demo scripts; RSS from /proc/self/status)")


if __name__ == "__main__":
    main()
