"""The collector's durable buffer: append-only files of calls, fsync'd before any is
acknowledged, drained into the store by its one writer.

A spool is a folder.  Calls go, one JSON object per line, to the open segment
``NNNNNNNNNNNN.open``; accepted calls and refused ones (with their reason) share it, so
one sequence orders everything that arrived.  One writer thread takes every append
waiting in its queue, writes them together and calls ``fsync`` once — group commit —
then releases all their callers: a caller returns only when its lines are on disk.  An
open segment is sealed (flushed, fsync'd, renamed to ``.jsonl``, the folder fsync'd)
when it grows past :data:`SEGMENT_BYTES` or when the drain asks; sealed segments are
read by the drain and deleted once the store committed them.  A replayed segment
(a crash between the store's commit and the delete) loads nothing twice: every call
has a message id and the store skips ids it has.

A process killed at any moment leaves at most a torn last line in the open segment; it
was never acknowledged, and :meth:`Spool.recover` cuts it off before sealing the segment.
The interface a drain reads — :meth:`sealed` and :meth:`done` — is what a Kafka topic
would give instead (docs/collector.md).
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future
from pathlib import Path

#: an open segment is sealed past this size
SEGMENT_BYTES = 16 * 1024 * 1024
OPEN, SEALED = ".open", ".jsonl"


class SpoolClosed(RuntimeError):
    """The spool is shut down (the collector is stopping)."""


class Spool:
    """A folder of segments with one writer thread (see the module doc)."""

    def __init__(self, folder: str | os.PathLike[str], *, segment_bytes: int = SEGMENT_BYTES):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._queue: queue.Queue[tuple[bytes, Future[None]] | None] = queue.Queue()
        self._lock = threading.Lock()  # the open segment: the writer and seal()
        self.recover()
        self._number = self._last_number() + 1
        self._file = open(self.folder / f"{self._number:012d}{OPEN}", "ab")  # noqa: SIM115 - held open
        self._closed = False
        self._thread = threading.Thread(target=self._write_loop, name="journeymap-spool", daemon=True)
        self._thread.start()

    # -- what a crash left ----------------------------------------------------
    def recover(self) -> list[Path]:
        """Seal every open segment a previous process left, without its torn last line."""
        found = []
        for path in sorted(self.folder.glob(f"*{OPEN}")):
            data = path.read_bytes()
            whole = data[: data.rfind(b"\n") + 1]
            if len(whole) != len(data):
                with open(path, "r+b") as f:
                    f.truncate(len(whole))
                    f.flush()
                    os.fsync(f.fileno())
            found.append(self._seal_path(path))
        return found

    def _last_number(self) -> int:
        numbers = [int(p.name.split(".")[0]) for p in self.folder.iterdir()
                   if p.name.split(".")[0].isdigit()]
        return max(numbers, default=0)

    # -- appending ------------------------------------------------------------
    def append(self, lines: list[bytes]) -> None:
        """Write ``lines`` (each one JSON object, no newline) and return once they are
        fsync'd; raises :class:`SpoolClosed` when the spool is shutting down."""
        self.submit(lines).result()

    def submit(self, lines: list[bytes]) -> Future[None]:
        """:meth:`append` without waiting: the future is done once the lines are on disk."""
        done: Future[None] = Future()
        if self._closed:
            done.set_exception(SpoolClosed("the collector is stopping"))
            return done
        self._queue.put((b"".join(line + b"\n" for line in lines), done))
        return done

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while True:  # group commit: everything that is waiting goes in this fsync
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            try:
                with self._lock:
                    self._file.write(b"".join(data for data, _ in batch))
                    self._file.flush()
                    os.fsync(self._file.fileno())
                    if self._file.tell() >= self.segment_bytes:
                        self._rotate()
            except OSError as exc:  # the disk is full or gone: nobody is told "stored"
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            for _, fut in batch:
                fut.set_result(None)

    # -- sealing and draining -------------------------------------------------
    def _rotate(self) -> None:
        """Seal the open segment and open the next (holding ``_lock``)."""
        path = Path(self._file.name)
        self._file.close()
        if path.stat().st_size:
            self._seal_path(path)
            self._number += 1
        self._file = open(self.folder / f"{self._number:012d}{OPEN}", "ab")  # noqa: SIM115

    def _seal_path(self, path: Path) -> Path:
        target = path.with_suffix(SEALED)
        if path.stat().st_size == 0:
            path.unlink()
            return target
        os.replace(path, target)
        _fsync_folder(self.folder)
        return target

    def seal(self) -> None:
        """Seal the open segment now (the drain calls it before reading)."""
        with self._lock:
            if not self._closed and self._file.tell():
                self._rotate()

    def sealed(self) -> list[Path]:
        """The sealed segments, oldest first."""
        return sorted(self.folder.glob(f"*{SEALED}"))

    def done(self, paths: list[Path]) -> None:
        """The store committed ``paths``: delete them."""
        for p in paths:
            p.unlink(missing_ok=True)
        _fsync_folder(self.folder)

    def pending_bytes(self) -> int:
        """Bytes written and not yet drained (sealed segments and the open one)."""
        return sum(p.stat().st_size for p in self.folder.iterdir() if p.suffix in (OPEN, SEALED))

    def close(self) -> None:
        """Finish what was submitted, seal the open segment and stop the writer."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        with self._lock:
            path = Path(self._file.name)
            self._file.close()
            self._seal_path(path)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
