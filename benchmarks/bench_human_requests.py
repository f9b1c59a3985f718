"""Recall and false positives of the offline bot's "talk to a person" triggers.

    python benchmarks/bench_human_requests.py [--misses]

Reads the phrasing sets in tests/ai/data/ (requests for a person and look-alike
questions that are not, in en, es, de, fr, pt, it): the development set the rules were
tuned on, and a hold-out set written afterwards. Prints, per language and overall, how
many requests were caught (recall) and how many look-alikes were mistaken for one
(false positives).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from inbox_tui.ai.phrasebook import asks_for_human

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT / "tests" / "ai" / "data" / "human_requests.tsv"
HOLDOUT = ROOT / "tests" / "ai" / "data" / "human_requests_holdout.tsv"


def load(path: Path = DATA) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            language, label, text = line.split("\t", 2)
            rows.append((language, label, text))
    return rows


def main() -> None:
    show_misses = "--misses" in sys.argv
    print("Development set (the rules were tuned on it):")
    report(DATA, show_misses)
    print("\nHold-out set (written after the rules, never used to tune them):")
    report(HOLDOUT, show_misses)


def report(path: Path, show_misses: bool) -> None:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[str] = []
    for language, label, text in load(path):
        caught = asks_for_human(text)
        for key in (language, "all"):
            counts[key][label] += 1
            counts[key][f"{label}_caught"] += caught
        if caught != (label == "person"):
            misses.append(f"  {'missed' if label == 'person' else 'false positive'} [{language}] {text}")
    print(f"{'language':<9}{'requests':>9}{'caught':>8}{'recall':>8}{'look-alikes':>13}{'false +':>9}{'rate':>7}")
    for key in sorted(counts, key=lambda k: (k == "all", k)):
        c = counts[key]
        recall = c["person_caught"] / c["person"] if c["person"] else 0.0
        fp_rate = c["other_caught"] / c["other"] if c["other"] else 0.0
        print(
            f"{key:<9}{c['person']:>9}{c['person_caught']:>8}{recall:>8.1%}"
            f"{c['other']:>13}{c['other_caught']:>9}{fp_rate:>7.1%}"
        )
    if show_misses and misses:
        print("\n".join(misses))


if __name__ == "__main__":
    main()
