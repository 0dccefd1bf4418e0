"""Interruption safety: Ctrl-C and SIGKILL leave the store exactly as before (or after)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from journeymap.data.ingest import ingest
from journeymap.data.store import Store
from journeymap.errors import StoreError

EV = "customer_id,timestamp,event\n"
STATE_SQL = """SELECT (SELECT count(*) FROM event_log),
    (SELECT coalesce(sum(hash(customer_id, "timestamp", event_id, properties)), 0)
     FROM event_log),
    (SELECT count(*) FROM event_names), (SELECT count(*) FROM quarantine),
    (SELECT count(*) FROM ingests)"""


def state(store: Store) -> tuple[object, ...]:
    return tuple(store.con.execute(STATE_SQL).fetchone() or ())


@pytest.mark.parametrize("phase", ["validate", "dedupe", "write"])
def test_keyboard_interrupt_rolls_back(phase: str, store: Store,
                                       write: Callable[..., Path]) -> None:
    ingest(store, "events", [write("a.csv", EV + "c1,2024-01-01,a\n")])
    before = state(store)

    def interrupt(description: str, _done: int, _total: int | None) -> None:
        # "write" is reported before and after writing: interrupt after it
        if description.startswith(phase) and (phase != "write" or _done > 0):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest(store, "events", [write("b.csv", EV + "c2,2024-01-01,b\n,x,y\n")],
               progress=interrupt)
    assert state(store) == before
    assert store.con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary"
                             ).fetchone() == (0,)


def test_execute_write_rolls_back_on_any_exception(store: Store) -> None:
    def boom(con: object) -> None:
        store.con.execute("INSERT INTO event_names VALUES (1, 'x')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.execute_write(boom)
    assert store.con.execute("SELECT count(*) FROM event_names").fetchone() == (0,)


def test_schema_is_idempotent(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as s:
        s.ensure_schema()
        s.ensure_schema()
        assert s.con.execute("SELECT count(*) FROM events").fetchone() == (0,)


def _python(code: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    return subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_store_locked_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    holder = _python("import sys, time\nfrom journeymap.data.store import Store\n"
                     f"s = Store({str(path)!r})\nprint('ready', flush=True)\ntime.sleep(30)\n")
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError) as err:
            Store(path)
        assert str(err.value) == (f"store {path} is in use by another process; "
                                  "close it and retry")
    finally:
        holder.kill()
        holder.communicate()


@pytest.mark.slow
def test_sigkill_leaves_before_or_after_state(tmp_path: Path) -> None:
    """Kill a large ingest at several moments; the store is always before or after."""
    template = tmp_path / "template.duckdb"
    big = tmp_path / "big.csv"
    with Store(template) as s:
        small = tmp_path / "small.csv"
        small.write_text(EV + "c1,2024-01-01,a\nc2,2024-01-02,b\n")
        ingest(s, "events", [small])
        s.con.execute(f"""COPY (SELECT 'c' || (i % 50000) AS customer_id,
            strftime(TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND, '%d/%m/%Y %H:%M:%S')
                AS timestamp, 'e' || (i % 40) AS event, 'p' || i AS note
            FROM range(400000) t(i)) TO '{big}' (HEADER)""")
        before = state(s)
    code = ("from journeymap.data.store import Store\nfrom journeymap.data.ingest import ingest\n"
            "import sys\ns = Store(sys.argv[1])\nprint('start', flush=True)\n"
            f"ingest(s, 'events', [{str(big)!r}])\ns.close()\n")

    def run(target: Path, delay: float | None) -> float:
        shutil.copy(template, target)
        start = time.monotonic()
        proc = _python(code.replace("sys.argv[1]", repr(str(target))))
        assert proc.stdout is not None and proc.stdout.readline().strip() == "start"
        if delay is None:
            _out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        else:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return time.monotonic() - start

    full = tmp_path / "full.duckdb"
    duration = run(full, None)
    with Store(full) as s:
        after = state(s)
    assert after[0] == before[0] + 400000
    outcomes = []
    budget = time.monotonic() + 15
    for i, delay in enumerate([0.05, 0.2, 0.5, duration * 0.5, duration * 0.9]):
        if time.monotonic() > budget:
            break
        target = tmp_path / f"kill{i}.duckdb"
        run(target, delay)
        with Store(target) as s:
            got = state(s)
        assert got in (before, after), f"kill after {delay:.2f}s left {got}"
        outcomes.append(got == before)
    assert outcomes and outcomes[0]              # an early kill never commits
