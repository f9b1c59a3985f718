"""The knowledge base: Markdown passages retrieved by BM25 for one question.

A knowledge base is one Markdown file or a folder of them. Each heading starts a
section; a long section is cut at its paragraphs, so a passage stays about one thing
and the model is sent a few passages instead of the whole base. A ``Keywords:`` line in
a section adds words that should find it (say, in other languages); it is indexed but
never shown. HTML comments (``<!-- ... -->``) are notes for the editor, not knowledge.

Ranking is SQLite's FTS5 ``bm25()`` over an in-memory index: the engine ships with
Python, ranks with the same BM25 as the store's own full-text search, and needs neither
NumPy nor SciPy (which BM25 libraries pull in and which would cost the server tens of
MiB). The index is rebuilt when a file's size or modification time changes, or a file
appears or goes away.

"Nothing relevant" is decided on top of the ranking: the best passage must share at
least two of the question's words, or a third of them, or name the question's topic in
its title or keywords with a word few passages use. One shared word in passing (a
customer asking about *Lager* stock, a passage saying bikes leave our *Lager*) or a
word every passage uses (*bicicleta*) is not an answer.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from inbox_tui.ai.text import content_words, fold, words

log = logging.getLogger(__name__)

#: A section longer than this is cut at its paragraphs.
PASSAGE_CHARS = 900
#: How many passages the model gets for one question.
TOP_PASSAGES = 3
#: A query word longer than this matches on its first characters only, so that
#: "garantia", "garantie" and "garanti" find each other.
PREFIX_CHARS = 6
#: The best passage must share this many of the question's words...
MIN_SHARED_WORDS = 2
#: ...or at least this share of them...
MIN_SHARED_FRACTION = 0.3
#: ...or one of them, whole, in its title or keywords, if at most this share of passages
#: (or one passage) use it.
DISTINCTIVE_FRACTION = 0.05

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_KEYWORDS = re.compile(r"^\s*keywords\s*:(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Passage:
    """One retrievable piece of knowledge: the section title and its text."""

    title: str
    text: str
    source: str = ""
    keywords: str = ""


def _flush(passages: list[Passage], title: str, body: list[str], keywords: str, source: str) -> None:
    text = "\n".join(body).strip()
    if not text:
        return
    if len(text) <= PASSAGE_CHARS:
        passages.append(Passage(title, text, source, keywords))
        return
    chunk = ""
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if chunk and len(chunk) + len(paragraph) > PASSAGE_CHARS:
            passages.append(Passage(title, chunk, source, keywords))
            chunk = ""
        chunk = f"{chunk}\n\n{paragraph}".strip()
    if chunk:
        passages.append(Passage(title, chunk, source, keywords))


def split_passages(markdown: str, source: str = "") -> list[Passage]:
    """Cut a Markdown document into passages, one per heading (or paragraph group)."""
    passages: list[Passage] = []
    title = Path(source).stem.replace("-", " ").replace("_", " ") if source else ""
    body: list[str] = []
    keywords = ""
    in_code = False
    for line in _COMMENT.sub("", markdown).splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        heading = None if in_code else _HEADING.match(line)
        if heading:
            _flush(passages, title, body, keywords, source)
            title, body, keywords = heading.group(2), [], ""
            continue
        found = None if in_code else _KEYWORDS.match(line)
        if found:
            keywords = f"{keywords} {found.group(1).replace(',', ' ')}".strip()
        else:
            body.append(line)
    _flush(passages, title, body, keywords, source)
    return passages


def _index_text(text: str) -> str:
    return " ".join(words(text))


def _query_terms(question: str) -> list[str]:
    """The question's content words, each cut to its first PREFIX_CHARS characters."""
    seen: dict[str, None] = {}
    for word in content_words(question):
        seen.setdefault(word[:PREFIX_CHARS], None)
    return list(seen)


def _match_expression(terms: Iterable[str]) -> str:
    # Words of three letters or more match as prefixes ("pay" finds "payment");
    # shorter ones only as themselves. Quotes keep FTS5 from reading them as syntax.
    return " OR ".join(f'"{t}"*' if len(t) >= 3 else f'"{t}"' for t in terms)


def _prefixes(vocabulary: set[str]) -> set[str]:
    """The words, and their beginnings of three to PREFIX_CHARS letters: a query term
    (at most PREFIX_CHARS letters) matches a passage when it is one of these."""
    found = set(vocabulary)
    for word in vocabulary:
        found.update(word[:k] for k in range(3, min(len(word), PREFIX_CHARS) + 1))
    return found


def _matches(term: str, vocabulary: set[str], prefixes: set[str]) -> bool:
    return term in vocabulary if len(term) < 3 else term in prefixes


def is_relevant(question_terms: Sequence[str], shared: int, named: int) -> bool:
    """``shared``: question words found in the passage; ``named``: distinctive question
    words found in its title or keywords."""
    if not question_terms or shared == 0:
        return False
    return named > 0 or shared >= MIN_SHARED_WORDS or shared / len(question_terms) >= MIN_SHARED_FRACTION


class KnowledgeIndex:
    """An immutable BM25 index over a list of passages."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self._words = [set(words(f"{p.title} {p.keywords} {p.text}")) for p in self.passages]
        self._prefixes = [_prefixes(vocabulary) for vocabulary in self._words]
        self._topic_words = [set(words(f"{p.title} {p.keywords}")) for p in self.passages]
        #: In how many passages each word appears.
        self._document_frequency = Counter(word for vocabulary in self._words for word in vocabulary)
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE VIRTUAL TABLE passages USING fts5(title, keywords, body, "
            "tokenize = 'unicode61 remove_diacritics 2', prefix = '3 4 5 6')"
        )
        self._db.executemany(
            "INSERT INTO passages (rowid, title, keywords, body) VALUES (?, ?, ?, ?)",
            [
                (i, _index_text(p.title), _index_text(p.keywords), _index_text(p.text))
                for i, p in enumerate(self.passages)
            ],
        )

    def search(self, question: str, limit: int = TOP_PASSAGES) -> list[Passage]:
        """The passages that answer ``question``, best first; empty when none is relevant."""
        if not self.passages:
            return []
        terms = _query_terms(question)
        if not terms:
            return []
        with self._lock:
            # Title and keywords weigh more than the body: they say what a passage is about.
            rows = self._db.execute(
                "SELECT rowid FROM passages WHERE passages MATCH ? ORDER BY bm25(passages, 3.0, 3.0, 1.0) LIMIT ?",
                (_match_expression(terms), limit),
            ).fetchall()
        most = max(1.0, DISTINCTIVE_FRACTION * len(self.passages))
        distinctive = [w for w in set(content_words(question)) if self._document_frequency[w] <= most]
        relevant = []
        for (rowid,) in rows:
            shared = sum(1 for t in terms if _matches(t, self._words[rowid], self._prefixes[rowid]))
            named = sum(1 for w in distinctive if w in self._topic_words[rowid])
            if is_relevant(terms, shared, named):
                relevant.append(self.passages[rowid])
            elif not relevant:
                return []  # the best passage is not an answer: none is
        return relevant


def knowledge_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.md") if p.is_file())
    return [path] if path.is_file() else []


class KnowledgeBase:
    """The knowledge at ``path`` (a Markdown file or a folder of them), reindexed when
    it changes. ``check_every`` bounds how often the files are looked at (seconds)."""

    def __init__(self, path: str | Path | None, *, check_every: float = 1.0) -> None:
        self.path = Path(path).expanduser() if path else None
        self.check_every = check_every
        self._fingerprint: tuple[tuple[str, int, int], ...] | None = None
        self._checked_at = float("-inf")
        self._index = KnowledgeIndex([])
        self._lock = threading.Lock()
        self.refresh()

    @classmethod
    def from_text(cls, markdown: str, source: str = "knowledge.md") -> KnowledgeBase:
        base = cls(None)
        base._index = KnowledgeIndex(split_passages(markdown, source))
        return base

    @property
    def passages(self) -> list[Passage]:
        return self._index.passages

    def _current_fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        assert self.path is not None
        entries = []
        for file in knowledge_files(self.path):
            try:
                stat = file.stat()
            except OSError:
                continue
            entries.append((str(file), stat.st_mtime_ns, stat.st_size))
        return tuple(entries)

    def refresh(self) -> bool:
        """Reindex if the files changed since the last look; True when it did."""
        if self.path is None:
            return False
        with self._lock:
            self._checked_at = time.monotonic()
            fingerprint = self._current_fingerprint()
            if fingerprint == self._fingerprint:
                return False
            passages: list[Passage] = []
            for name, _mtime, _size in fingerprint:
                try:
                    markdown = Path(name).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as error:
                    log.warning("cannot read the knowledge file %s: %s", name, error)
                    continue
                passages.extend(
                    split_passages(
                        markdown, str(Path(name).relative_to(self.path)) if self.path.is_dir() else Path(name).name
                    )
                )
            if not fingerprint:
                log.warning("no knowledge found at %s (a Markdown file or a folder of them)", self.path)
            self._index = KnowledgeIndex(passages)
            self._fingerprint = fingerprint
            log.info("knowledge indexed: %d passages from %d file(s) at %s", len(passages), len(fingerprint), self.path)
            return True

    def search(self, question: str, limit: int = TOP_PASSAGES) -> list[Passage]:
        if self.path is not None and time.monotonic() - self._checked_at >= self.check_every:
            self.refresh()
        return self._index.search(question, limit)


def passages_as_text(passages: Sequence[Passage]) -> str:
    """How passages are shown to a model: each under its title."""
    return "\n\n".join(f"## {p.title}\n{p.text}" if p.title else p.text for p in passages)


__all__ = ["KnowledgeBase", "KnowledgeIndex", "Passage", "fold", "passages_as_text", "split_passages"]
