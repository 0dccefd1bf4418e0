"""Rich progress bars behind the library's ``progress(description, done, total)`` callback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from journeymap.progress import Progress as ProgressCallback


@contextmanager
def rich_progress(console: Console) -> Iterator[ProgressCallback]:
    """Yield a callback that shows one bar per description, on ``console``.

    Bars appear only on a terminal; in a pipe or CI log Rich prints nothing, so the
    output stays clean.
    """
    bars = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),  # descriptions name user files
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )
    tasks: dict[str, int] = {}

    def callback(description: str, completed: int, total: int | None) -> None:
        task = tasks.get(description)
        if task is None:
            task = tasks[description] = bars.add_task(description, total=total)
        bars.update(task, completed=completed, total=total)

    with bars:
        yield callback
