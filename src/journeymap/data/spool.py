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
was never acknowledged, and :meth:`SpoolReader.recover` cuts it off before sealing the
segment.  One process writes a spool (it holds ``.writer.lock``); the drain, in another
process, reads only sealed segments, and recovers open ones only when no writer holds
the lock.  The interface a drain reads — :meth:`SpoolReader.sealed` and
:meth:`SpoolReader.done` — is what a Kafka topic would give instead (docs/collector.md).
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
from concurrent.futures import Future
from pathlib import Path

#: an open segment is sealed past this size
SEGMENT_BYTES = 16 * 1024 * 1024
OPEN, SEALED = ".open", ".jsonl"


LOCK = ".writer.lock"
#: how long a starting writer waits for the lock (a drain may hold it while it recovers)
WRITER_WAIT = 10.0


class SpoolClosed(RuntimeError):
    """The spool is shut down (the collector is stopping)."""


class SpoolBusy(RuntimeError):
    """Another process writes this spool."""


class SpoolReader:
    """The drain's side of a spool: sealed segments, oldest first, deleted once stored."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _try_lock(self, wait: float = 0.0) -> int | None:
        """The writer's lock (a file descriptor), or None when another process holds it
        for longer than ``wait`` seconds (a drain recovering a dead writer's segment
        holds it for a moment)."""
        import time

        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return None
                time.sleep(0.02)

    def recover_orphaned(self) -> bool:
        """Seal the open segments of a writer that died (none when a writer is alive)."""
        fd = self._try_lock()
        if fd is None:
            return False
        try:
            self.recover()
        finally:
            os.close(fd)
        return True

    def recover(self) -> list[Path]:
        """Seal every open segment (a dead writer's), without its torn last line."""
        found = []
        for path in sorted(self.folder.glob(f"*{OPEN}")):
            data = path.read_bytes()
            whole = data[: data.rfind(b"\n") + 1]
            if len(whole) != len(data):
                with open(path, "r+b") as f:
                    f.truncate(len(whole))
                    f.flush()
                    os.fsync(f.fileno())
            sealed = self._seal_path(path)
            if sealed is not None:
                found.append(sealed)
        return found

    def _seal_path(self, path: Path) -> Path | None:
        if path.stat().st_size == 0:
            path.unlink()
            return None
        target = path.with_suffix(SEALED)
        os.replace(path, target)
        _fsync_folder(self.folder)
        return target

    def sealed(self) -> list[Path]:
        """The sealed segments, oldest first."""
        return sorted(self.folder.glob(f"*{SEALED}"))

    def done(self, paths: list[Path]) -> None:
        """The store committed ``paths``: delete them."""
        for p in paths:
            p.unlink(missing_ok=True)
        _fsync_folder(self.folder)

    def pending_bytes(self) -> int:
        """Bytes written and not yet drained (a file may go while it is counted)."""
        total = 0
        for p in self.folder.iterdir():
            if p.suffix in (OPEN, SEALED):
                try:
                    total += p.stat().st_size
                except FileNotFoundError:
                    pass
        return total


class Spool(SpoolReader):
    """A folder of segments with one writer thread, in the one process holding the
    folder's writer lock (see the module doc)."""

    def __init__(self, folder: str | os.PathLike[str], *, segment_bytes: int = SEGMENT_BYTES):
        super().__init__(folder)
        lock = self._try_lock(wait=WRITER_WAIT)
        if lock is None:
            raise SpoolBusy(f"{self.folder}: another collector writes this spool; stop it first")
        self._lock_fd = lock
        self.segment_bytes = segment_bytes
        self._queue: queue.Queue[tuple[bytes, Future[None]] | None] = queue.Queue()
        self._lock = threading.Lock()  # the open segment: the writer and seal()
        self.recover()
        self._number = self._last_number() + 1
        self._file = open(self.folder / f"{self._number:012d}{OPEN}", "ab")  # noqa: SIM115 - held open
        self._closed = False
        self._thread = threading.Thread(target=self._write_loop, name="journeymap-spool", daemon=True)
        self._thread.start()

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

    # -- sealing ----------------------------------------------------------------
    def _rotate(self) -> None:
        """Seal the open segment and open the next (holding ``_lock``)."""
        path = Path(self._file.name)
        self._file.close()
        if self._seal_path(path) is not None:
            self._number += 1
        self._file = open(self.folder / f"{self._number:012d}{OPEN}", "ab")  # noqa: SIM115

    def seal(self) -> None:
        """Seal the open segment now (before a drain reads)."""
        with self._lock:
            if not self._closed and self._file.tell():
                self._rotate()

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
        os.close(self._lock_fd)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
