"""``make bench`` (store part): the incremental event log's floors (issue 13, point 1).

    python bench/store.py [--events 1e7] [--appends 100] [--big]

Each figure is a whole process (``bench/run.py``'s runner: wall time and peak RSS):

* **first ingest**: ``journeymap ingest events FILE -w WS`` of the generated Parquet
  log (bench/gen.py) into a fresh workspace (``journeymap init`` untimed), median of 3 (floor: 10 M events <= 6 s; ``--big`` adds 100 M,
  one run, floor <= 100 s);
* **append 10k**: ``journeymap ingest events FILE`` of 10,000 new events for 1,000
  existing customers, at random times of the year (so they fall between stored events),
  into the 10 M-event store — 5 different files, median and slowest (floor <= 1 s);
* **analyze with N appends**: after the 5 appends above, N - 5 more in one process,
  then the whole ``journeymap analyze MAP --json OUT`` with its default sections on
  the discovered map, median of 3; then ``journeymap compact`` (timed) and the same
  analysis on the merged store (floor: un-merged <= 1.3 x merged).

Writes bench/RESULTS-store.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen import generate  # noqa: E402
from run import JOBS, OUT, Measure, code_version, machine, measure  # noqa: E402

APPEND_EVENTS = 10_000


def append_file(log: Path, out: Path, seed: int) -> Path:
    """10,000 events of 1,000 customers of ``log`` (10 each), at random times of 2024."""
    import duckdb

    if out.exists():
        return out
    con = duckdb.connect()
    con.execute(f"""COPY (
        WITH pick AS (SELECT customer_id FROM (SELECT DISTINCT customer_id FROM read_parquet('{log}'))
                      ORDER BY hash(customer_id, {seed}) LIMIT {APPEND_EVENTS // 10})
        SELECT customer_id,
               TIMESTAMPTZ '2024-01-01 00:00:00+00'
                 + to_seconds(CAST(hash(customer_id, i, {seed}) % (365 * 86400) AS BIGINT)) AS timestamp,
               's3_e' || (hash(i, customer_id, {seed}) % 10) AS event, 'web' AS channel
        FROM pick, range(10) AS t(i)) TO '{out}' (FORMAT parquet)""")
    con.close()
    return out


def appends_in_process(ws: Path, files: list[Path]) -> float:
    """Ingest ``files`` one by one in this process; seconds per append (median)."""
    from journeymap.workspace import Workspace

    times = []
    with Workspace.open(ws) as w:
        for f in files:
            start = time.perf_counter()
            w.ingest("events", [f])
            times.append(time.perf_counter() - start)
    return statistics.median(times) if times else 0.0


def pieces(ws: Path) -> dict[str, int]:
    from journeymap.workspace import Workspace

    with Workspace.open(ws) as w:
        return w.store.status()["tables"]["events"]["pieces"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=1e7)
    parser.add_argument("--appends", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="also a first ingest of 100 M events")
    args = parser.parse_args(argv)
    n, reps = int(args.events), args.repeats
    OUT.mkdir(exist_ok=True)
    data = generate(n, OUT / f"events-{n}.parquet")
    ws = OUT / f"store-ws-{n}"
    rows: list[tuple[Measure, str]] = []

    def add(m: Measure, covers: str) -> Measure:
        rows.append((m, covers))
        print(f"{m.task}: {m.wall:.2f} s, {m.rss / 2**30:.2f} GiB{'' if m.ok else ' FAILED ' + m.note}", flush=True)
        return m

    def first_ingest(folder: Path, file: Path, runs: int) -> Measure:
        # `journeymap init` untimed, then the whole `journeymap ingest events FILE` as users run it
        return measure("journeymap", "first ingest (Parquet)", n if file == data else 100_000_000,
                       ["cli", "ingest", "events", str(file), "-w", str(folder)], runs,
                       before=[str(folder)], setup=["cli", "init", str(folder)])

    first = add(first_ingest(ws, data, reps),
                "`journeymap ingest events FILE -w WS` into a fresh workspace (init untimed), median")
    if args.big:
        big = generate(100_000_000, OUT / "events-100000000.parquet")
        big_ws = OUT / "store-ws-100000000"
        add(first_ingest(big_ws, big, 1), "`journeymap ingest events FILE -w WS` into a fresh workspace, one run")
        shutil.rmtree(big_ws, ignore_errors=True)
    map_file = OUT / f"store-discovered-{n}.yaml"
    subprocess.run([sys.executable, str(JOBS), "discover", str(ws), str(map_file)], check=True)
    files = [append_file(data, OUT / f"append-{n}-{i}.parquet", i) for i in range(max(args.appends, 5))]
    appends = [measure("journeymap", "append 10k", n, ["cli", "ingest", "events", str(f), "-w", str(ws)], 1)
               for f in files[:5]]
    walls = [m.wall for m in appends]
    median = statistics.median(walls)
    add(Measure("journeymap", "append 10k events", n, median, max(m.rss for m in appends), len(appends),
                all(m.ok for m in appends), f"slowest {max(walls):.2f} s", code_version()),
        "`journeymap ingest events FILE` into the store, 5 files, median")
    in_process = appends_in_process(ws, files[5:args.appends])
    info = pieces(ws)
    out_json = str(OUT / f"store-analysis-{n}.json")
    analyze = ["cli", "analyze", str(map_file), "-w", str(ws), "--json", out_json]
    unmerged = add(measure("journeymap", f"analyze, {info['appends']} un-merged appends", n, analyze, reps),
                   "`journeymap analyze MAP --json OUT`, default sections, median")
    add(measure("journeymap", "compact", n, ["cli", "compact", "-w", str(ws)], 1),
        f"`journeymap compact`: {info['appends']} pieces into one")
    merged = add(measure("journeymap", "analyze, merged", n, analyze, reps),
                 "the same command after the compact, median")
    ratio = unmerged.wall / merged.wall if merged.wall else float("nan")
    floors = [
        f"- first ingest of {n / 1e6:g} M events from Parquet: {first.wall:.2f} s (floor <= 6 s at 10 M): "
        f"{'met' if first.wall <= 6 else 'NOT met'}",
        f"- append 10,000 events: {median:.2f} s, slowest {max(walls):.2f} s (floor <= 1 s): "
        f"{'met' if median <= 1 else 'NOT met'} (median)",
        f"- analysis with {info['appends']} un-merged appends: {ratio:.2f}x the merged store's "
        f"(floor <= 1.3x): {'met' if ratio <= 1.3 else 'NOT met'}",
    ]
    for m, _ in rows:
        if m.task.startswith("first ingest") and m.events == 100_000_000:
            floors.append(f"- first ingest of 100 M events: {m.wall:.1f} s (floor <= 100 s): "
                          f"{'met' if m.wall <= 100 else 'NOT met'}")
    info_m = machine()
    lines = [
        "# Store benchmark (incremental event log)", "",
        f"`python bench/store.py {' '.join(argv)}`".replace(" `", "`") + f" on {dt.date.today()}.", "",
        f"Machine: {info_m['nproc']} cores ({info_m['cpu']}), {info_m['ram']} RAM, Python {info_m['python']}; "
        f"duckdb {info_m['v:duckdb']}.", "",
        "Each figure is a whole process (imports included): wall time and peak RSS. An append "
        "is 10,000 events of 1,000 existing customers at random times of the year, so every "
        "one falls between stored events and the customers' journeys are rewritten with them "
        f"(ADR 0018). Between the timed appends and the analysis, {max(args.appends - 5, 0)} more "
        f"appends ran in one process ({in_process:.2f} s each, median, without process start).", "",
        "| events | task | wall (s) | peak RSS | runs | code | what it covers |",
        "|---:|---|---:|---:|---:|---|---|",
    ]
    for m, covers in rows:
        note = f" ({m.note})" if m.note else ""
        lines.append(f"| {m.events / 1e6:g} M | {m.task} | {m.wall:.2f} | {m.rss / 2**30:.2f} GiB | "
                     f"{m.runs} | {m.code} | {covers}{note} |")
    lines += ["", "## Floors", "", *floors, ""]
    text = "\n".join(lines)
    (HERE / "RESULTS-store.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
