"""Retrieval: a Markdown file or a folder split into passages, BM25-ranked, "nothing
relevant" when nothing is, and reindexed when the files change."""

from __future__ import annotations

import os
from pathlib import Path

from inbox_tui.ai.knowledge import PASSAGE_CHARS, KnowledgeBase, split_passages

SHIPPING = """# Shipping

<!-- editor's note: keep this short -->

## Shipping times
Orders ship within 2 working days; delivery takes 3 to 5 days.
Keywords: envío, Lieferung, livraison

## Customs
Orders to Switzerland and the UK may pay import VAT on delivery.
"""
RETURNS = """## Returns and refunds
You can return anything within 30 days for a full refund.
Keywords: devolución, reembolso, Rückgabe, remboursement
"""


def test_headings_split_passages_and_comments_and_keywords_stay_out_of_the_text() -> None:
    passages = split_passages(SHIPPING, "shipping.md")
    assert [p.title for p in passages] == ["Shipping times", "Customs"]
    assert "editor" not in " ".join(p.text for p in passages)
    assert passages[0].text == "Orders ship within 2 working days; delivery takes 3 to 5 days."
    assert "Lieferung" in passages[0].keywords and passages[0].source == "shipping.md"


def test_a_long_section_is_cut_at_its_paragraphs() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 60 for i in range(6)]
    passages = split_passages("## Long\n" + "\n\n".join(paragraphs))
    assert len(passages) > 1
    assert all(p.title == "Long" and len(p.text) <= PASSAGE_CHARS for p in passages)
    assert "\n\n".join(p.text for p in passages).count("Paragraph") == 6


def test_best_passage_first_in_any_language_and_nothing_when_nothing_is_relevant() -> None:
    base = KnowledgeBase.from_text(SHIPPING + "\n" + RETURNS)
    assert base.search("How long does delivery take?")[0].title == "Shipping times"
    assert base.search("¿Puedo pedir un reembolso?")[0].title == "Returns and refunds"
    assert base.search("Do I pay VAT when it ships to Switzerland?")[0].title == "Customs"
    assert base.search("What is the meaning of life?") == []
    assert base.search("ok") == []
    # One word in passing is not an answer.
    assert base.search("Do you sell orders of magnitude more helmets than bells?") == []


def test_a_folder_is_indexed_and_reindexed_when_a_file_changes(tmp_path: Path) -> None:
    (tmp_path / "shipping.md").write_text(SHIPPING, encoding="utf-8")
    (tmp_path / "policies").mkdir()
    base = KnowledgeBase(tmp_path, check_every=0)
    assert {p.source for p in base.passages} == {"shipping.md"}
    assert base.search("Can I get a refund?") == []

    returns = tmp_path / "policies" / "returns.md"
    returns.write_text(RETURNS, encoding="utf-8")
    assert base.search("Can I get a refund?")[0].source == os.path.join("policies", "returns.md")

    returns.write_text(RETURNS.replace("30 days", "60 days"), encoding="utf-8")
    os.utime(returns, ns=(returns.stat().st_atime_ns, returns.stat().st_mtime_ns + 1_000_000))
    assert "60 days" in base.search("Can I get a refund?")[0].text

    returns.unlink()
    assert base.search("Can I get a refund?") == []


def test_a_missing_path_is_an_empty_base(tmp_path: Path) -> None:
    base = KnowledgeBase(tmp_path / "nowhere.md", check_every=0)
    assert base.passages == [] and base.search("shipping") == []
