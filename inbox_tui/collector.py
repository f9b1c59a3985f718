"""The cyclic garbage collector while the program starts.

Loading the program (Textual, SQLAlchemy and our own modules) creates a few
hundred thousand objects that all live until the process ends. With the collector on,
their creation triggers several full collections that find nothing to free: about a
sixth of the import time on a small machine. The ``inbox-tui`` command pauses the
collector before its first import (:mod:`inbox_tui.entry`); once the program is up (a
command begins its work, or the inbox has painted its first screen) what was loaded is
frozen out of the collector's sight and the collector resumes.
"""

from __future__ import annotations

import gc


def pause() -> None:
    gc.disable()


def resume(*, collect: bool = True) -> None:
    """Collect the start's garbage (``collect``), freeze what lives on, turn the collector on.

    Freezing keeps later full collections short: they no longer rescan the thousands of
    objects loaded at start. Harmless when the collector was never paused."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.enable()
