"""Lines longer than the readers' limit, set aside before DuckDB reads a file.

DuckDB's CSV reader gives up on a whole file when one record is longer than its
``max_line_size`` (its sniffer raises, after ~25 s of work for a 64 MiB line).  So a
text file bigger than the limit is scanned first -- a ``memchr`` pass per 4 MiB block,
no Python loop per line -- and when some line is too long, DuckDB reads a copy of the
file in which each such line is blank (a blank line is no record: every other line
keeps its number).  The lines set aside are quarantined with their number, size and
first MiB.  Compressed files are not scanned (DuckDB's line reader rejects long lines
itself; its CSV reader fails the file with a one-line error).

Line numbers count ``\\n`` (``\\r`` in a file without any); a line breaks at ``\\r`` or
``\\n``.  A CSV record with quoted line breaks spans several lines here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

#: The longest line a reader takes (DuckDB's ``max_line_size``); a longer one is quarantined.
MAX_LINE_BYTES = 64 * 1024 * 1024
#: How much of a line longer than that its quarantine row keeps.
KEPT_BYTES = 1024 * 1024
_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class LongLine:
    """One line set aside: its 1-based number in the file, its size, and its head."""

    line: int
    size: int
    head: str


def long_line_reason(limit: int) -> str:
    """The quarantine reason of a line longer than ``limit`` bytes."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"line longer than {limit // size} {unit}"
    return f"line longer than {limit:,} bytes"


def _first_break(block: bytes) -> int:
    found = [i for i in (block.find(b"\n"), block.find(b"\r")) if i >= 0]
    return min(found) if found else -1


def _last_break(block: bytes) -> int:
    return max(block.rfind(b"\n"), block.rfind(b"\r"))


def find_long_lines(path: Path, limit: int) -> list[tuple[int, int, int]]:
    """``(line number, start, end)`` byte spans of the lines of ``path`` that DuckDB would
    find too long for ``max_line_size = limit`` (its limit counts the line break, so a
    line of ``limit - 1`` bytes or more).  Reads the file once, in blocks."""
    block_size = max(1, min(_BLOCK, limit // 2))
    spans: list[tuple[int, int, int]] = []
    newline: bytes | None = None
    pos = start = breaks = 0      # start: where the current line began
    with path.open("rb") as fh:
        while block := fh.read(block_size):
            if newline is None:
                newline = b"\n" if b"\n" in block or b"\r" not in block else b"\r"
            first = _first_break(block)
            if first >= 0:
                # the current line has no break before this block: all ``breaks`` precede it
                if pos + first - start >= limit - 1:
                    spans.append((breaks + 1, start, pos + first))
                start = pos + _last_break(block) + 1
                breaks += block.count(newline)
            pos += len(block)
    if pos - start >= limit - 1:
        spans.append((breaks + 1, start, pos))
    return spans


def _copy(src: BinaryIO, dst: BinaryIO, n: int) -> None:
    while n > 0:
        chunk = src.read(min(n, _BLOCK))
        if not chunk:
            return
        dst.write(chunk)
        n -= len(chunk)


@contextmanager
def without_long_lines(path: Path, limit: int, scratch: str | None) -> Iterator[tuple[Path, list[LongLine]]]:
    """Yield the file to read and the lines set aside: ``path`` itself when no line is
    too long (always for a file no bigger than ``limit``, or a compressed one), else a
    copy in ``scratch`` (a folder; None: the system's) with those lines blank, removed
    on exit."""
    compressed = path.suffix.lower() in (".gz", ".zst", ".zstd")
    spans = [] if compressed or path.stat().st_size < limit - 1 else find_long_lines(path, limit)
    if not spans:
        yield path, []
        return
    if scratch:
        Path(scratch).mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="journeymap-lines-", suffix=path.suffix, dir=scratch or None)
    copy = Path(name)
    found: list[LongLine] = []
    try:
        with os.fdopen(fd, "wb") as dst, path.open("rb") as src:
            at = 0
            for line, begin, end in spans:
                _copy(src, dst, begin - at)
                head = src.read(min(KEPT_BYTES, end - begin))
                found.append(LongLine(line, end - begin, head.decode("utf-8", errors="replace")))
                src.seek(end)
                at = end
            shutil.copyfileobj(src, dst, _BLOCK)
        yield copy, found
    finally:
        copy.unlink(missing_ok=True)
