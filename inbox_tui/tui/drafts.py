"""Unsent composer text, kept per ticket across ticket switches and restarts.

Drafts live in a small JSON file in the data directory, one per teammate, rather than
in the database: a draft is private to one person's terminal, changes on every
keystroke, and must not wake every other client through the event log.
Writes are atomic and private (``core.private_files``: temp file + rename, mode 0600),
so a crash never leaves a half-written file and no other user reads a draft.
While typing, :meth:`DraftStore.keep` only updates memory; the composer writes the file
(:meth:`DraftStore.save_pending`) once the typing pauses, on a ticket switch and on quit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inbox_tui.core.private_files import read_json_object, write_private_json
from inbox_tui.settings import data_dir


@dataclass(frozen=True)
class Draft:
    text: str
    mode: str  # "reply" | "note"


class DraftStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._drafts: dict[str, Draft] = {}
        self.pending = False  # memory differs from the file
        self._load()

    @classmethod
    def for_agent(cls, handle: str | None) -> DraftStore:
        return cls(data_dir() / f"drafts-{handle or 'anonymous'}.json")

    def _load(self) -> None:
        # No file yet, or unreadable: start empty rather than refuse to open.
        for ticket, value in read_json_object(self.path).items():
            if isinstance(value, dict) and isinstance(value.get("text"), str):
                self._drafts[str(ticket)] = Draft(value["text"], str(value.get("mode", "reply")))

    def get(self, ticket_id: int) -> Draft | None:
        return self._drafts.get(str(ticket_id))

    def keep(self, ticket_id: int, text: str, mode: str) -> bool:
        """Remember a draft in memory (no file write); True if it changed."""
        key = str(ticket_id)
        if text.strip():
            draft = Draft(text, mode)
            if self._drafts.get(key) == draft:
                return False
            self._drafts[key] = draft
        elif self._drafts.pop(key, None) is None:
            return False
        self.pending = True
        return True

    def put(self, ticket_id: int, text: str, mode: str) -> None:
        """Remember a draft and write the file now."""
        if self.keep(ticket_id, text, mode):
            self._save()

    def save_pending(self) -> None:
        if self.pending:
            self._save()

    def discard(self, ticket_id: int) -> None:
        if self._drafts.pop(str(ticket_id), None) is not None or self.pending:
            self._save()

    def _save(self) -> None:
        write_private_json(self.path, {k: {"text": d.text, "mode": d.mode} for k, d in self._drafts.items()})
        self.pending = False
