"""The progress callback the library reports long work through.

Library functions take ``progress: Progress | None`` and call
``progress(description, completed, total)``; ``total`` is None when unknown.
The CLI turns these calls into Rich progress bars; the web app into events.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, "int | None"], None]


def report(progress: Progress | None, description: str, completed: int, total: int | None) -> None:
    """Call ``progress`` if there is one."""
    if progress is not None:
        progress(description, completed, total)
