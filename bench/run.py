"""``make bench``: journeymap's ingest and analyze beside pm4py and retentioneering.

    python bench/run.py [--sizes 1e6,1e7[,1e8]] [--quick] [--repeats 3] [--peers-max 1e7]
                        [--reuse] [--demo-customers 250000]

For each size: generate the event log (cached under bench/out/), time ``ingest`` into
a fresh workspace, draft a map with ``discover`` (setup), then time what a user runs —
the whole ``journeymap analyze MAP --json OUT`` command with its default sections, and
with ``--fast`` — and beside it the engine subset (stage funnel, transitions, top
paths, a 4-step funnel through the Python API), and the peers on the same Parquet
file up to ``--peers-max`` events.  A second workload is the demo company at
``--demo-customers`` (250,000: about 9.5 M events, with customers, feedback,
transactions and transcripts loaded) analysed on its SME map (a persona segment):
the whole command, ``--fast``, and each section's own time.  Every measurement is a
fresh process (imports included); wall time and peak RSS are the median of
``--repeats`` runs (one run past 10 M events).  ``--reuse`` keeps workspaces already
ingested (their ingest rows stay from the run that measured them).  Prints the tables
and writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen import generate  # noqa: E402

OUT = HERE / "out"
JOBS = HERE / "jobs.py"


@dataclass
class Measure:
    tool: str
    task: str
    events: int
    wall: float
    rss: int  # bytes
    runs: int
    ok: bool = True
    note: str = ""
    code: str = ""  # the commit measured (+ when the engine had uncommitted edits)


def code_version() -> str:
    """The checkout's commit, with + when src/ has uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "../src"], cwd=HERE,
                               text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return head + ("+" if dirty else "")


def run_once(args: list[str], timeout: float) -> tuple[float, int, bool, str]:
    """Wall seconds, peak RSS (bytes) of one fresh process, whether it succeeded."""
    env = {**os.environ, "RETENTIONEERING_NO_TRACK": "1", "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(JOBS), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return time.perf_counter() - start, 0, False, f"timed out after {timeout:.0f} s"
    wall = time.perf_counter() - start
    rss = _peak_rss()
    if proc.returncode != 0:
        last = (err.decode(errors="replace").strip().splitlines() or ["failed"])[-1]
        return wall, rss, False, last[:160]
    return wall, rss, True, ""


def _peak_rss() -> int:
    """Peak RSS of the reaped job: RUSAGE_CHILDREN keeps the maximum over all children,
    so each job runs under its own short-lived runner process (see measure())."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def measure(tool: str, task: str, events: int, args: list[str], repeats: int,
            timeout: float = 1800, before: list[str] | None = None,
            setup: list[str] | None = None) -> Measure:
    """Median wall and peak RSS of ``repeats`` runs of job ``args``; before each, the
    folder ``before[0]`` is removed and job ``setup`` runs, untimed."""
    walls, rsses, note = [], [], ""
    for _ in range(repeats):
        if before:
            shutil.rmtree(before[0], ignore_errors=True)
        if setup:
            subprocess.run([sys.executable, str(JOBS), *setup], check=True, capture_output=True)
        got = subprocess.run([sys.executable, __file__, "--one", str(timeout), "--", *args],
                             capture_output=True, text=True)
        parts = got.stdout.rstrip("\n").split("\t") if got.returncode == 0 else []
        if len(parts) != 4 or parts[2] != "ok":
            note = parts[3] if len(parts) == 4 else (got.stderr.strip()[-160:] or "failed")
            return Measure(tool, task, events, float(parts[0]) if parts else 0.0,
                           int(parts[1]) if parts else 0, len(walls) + 1, False, note)
        walls.append(float(parts[0]))
        rsses.append(int(parts[1]))
    return Measure(tool, task, events, statistics.median(walls), int(statistics.median(rsses)),
                   repeats, True, note, code_version())


def _fmt_size(n: int) -> str:
    return f"{n / 1e6:g} M"


def _gib(b: int) -> str:
    return f"{b / 2**30:.2f} GiB"


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    versions = {}
    for pkg in ("journeymap", "duckdb", "ibis-framework", "pyarrow", "numpy", "pandas",
                "pm4py", "retentioneering"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    return {"nproc": str(os.cpu_count()), "ram": _gib(ram), "cpu": cpu or "unknown",
            "python": platform.python_version(), "os": platform.platform(),
            **{f"v:{k}": v for k, v in versions.items()}}


FULL = "analyze (whole command)"
FAST = "analyze --fast (whole command)"
ENGINE = "analyze (engine sections)"
DEMO_MAP = "sme-onboarding-churn"


#: each section's own time, per workload ("10 M events, discovered map": {section: s})
SectionTimes = dict[str, dict[str, float]]


def floors(results: list[Measure], sections: SectionTimes | None = None) -> list[str]:
    """Issue 10's floors, checked against this run's numbers."""
    lines = []
    get = {(m.tool, m.task, m.events): m for m in results if m.ok}

    def at(task: str, events: int) -> Measure | None:
        return get.get(("journeymap", task, events))

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    a10, f10 = at(FULL, 10_000_000), at(FAST, 10_000_000)
    if a10:
        lines.append(f"- `analyze`, 10 M events, default sections: {a10.wall:.2f} s (floor ≤ 6 s): "
                     f"{verdict(a10.wall <= 6)}")
        rete = next((m for (t, _, e), m in get.items() if t == "retentioneering" and e == 10_000_000), None)
        if rete:
            ratio = rete.wall / a10.wall
            lines.append(f"- vs retentioneering at 10 M: {ratio:.1f}× faster (floor ≥ 4×): {verdict(ratio >= 4)}")
    if f10:
        lines.append(f"- `analyze --fast`, 10 M events: {f10.wall:.2f} s (floor ≤ 4 s): {verdict(f10.wall <= 4)}")
    for m in results:
        if m.ok and m.tool == "journeymap" and m.task.startswith("demo") and m.events:
            floor = 4 if "--fast" in m.task else 6
            lines.append(f"- {m.task}, {_fmt_size(m.events)} events: {m.wall:.2f} s (floor ≤ {floor} s): "
                         f"{verdict(m.wall <= floor)}")
    for workload, times in (sections or {}).items():
        slow = {k: v for k, v in times.items() if not k.startswith("(") and v > 1.5}
        lines.append(f"- no section over 1.5 s ({workload}): "
                     + ("met" if not slow else "NOT met — " + ", ".join(
                         f"{k} {v:.1f} s" for k, v in sorted(slow.items(), key=lambda x: -x[1]))))
    a100 = at(FULL, 100_000_000)
    if a100:
        lines.append(f"- `analyze`, 100 M events: {a100.wall:.1f} s, peak RSS {_gib(a100.rss)} "
                     f"(floors ≤ 60 s, ≤ 8 GiB): "
                     f"{verdict(a100.wall <= 60 and a100.rss <= 8 * 2**30)}")
    return lines


def section_table(sections: SectionTimes) -> str:
    """One row per section, a column per workload, the slowest (in the first) first."""
    names = list(sections)
    first = sections[names[0]]
    every = sorted({k for t in sections.values() for k in t}, key=lambda k: (-first.get(k, 0.0), k))
    rows = ["| section | " + " | ".join(f"{n} (s)" for n in names) + " |",
            "|---|" + "---:|" * len(names)]
    for name in every:
        cells = [f"{t[name]:.2f}" if name in t else "—" for t in sections.values()]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def table(results: list[Measure]) -> str:
    rows = ["| events | tool | task | wall (s) | peak RSS | runs | code | note |",
            "|---:|---|---|---:|---:|---:|---|---|"]
    for m in results:
        wall = f"{m.wall:.2f}" if m.ok else "—"
        rows.append(f"| {_fmt_size(m.events)} | {m.tool} | {m.task} | {wall} | "
                    f"{_gib(m.rss) if m.rss else '—'} | {m.runs} | {m.code} | {m.note} |")
    return "\n".join(rows)


def write_results(results: list[Measure], info: dict[str, str], argv: list[str],
                  sections: SectionTimes | None = None) -> Path:
    versions = ", ".join(f"{k[2:]} {v}" for k, v in info.items() if k.startswith("v:"))
    text = (
        "# Benchmark results\n\n"
        f"`python bench/run.py {' '.join(argv)}` on {time.strftime('%Y-%m-%d')}.\n\n"
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, "
        f"Python {info['python']}, {info['os']}.\n\nVersions: {versions}.\n\n"
        "Each number is a whole process (imports included): wall time and peak RSS, the "
        "median of the runs shown. "
        "`ingest` is one process that creates a fresh workspace and loads the Parquet file through "
        "the Python API (`bench/jobs.py ingest`), not the `journeymap ingest` command: "
        "bench/RESULTS-store.md times that command. "
        "`analyze (whole command)` is what a user runs: "
        "`journeymap analyze MAP -w WS --json OUT` with its default sections (journeys, "
        "funnels, paths, segments, churn, cohorts, clusters, feedback, attribution, CLV, goal, "
        "emotion, themes, pain points); `--fast` skips CLV, themes and clusters. On the "
        "generated logs the map is drafted by `discover` (no persona, events only); "
        "`demo` rows are the demo company (customers, feedback, transactions, transcripts "
        f"loaded) on its `{DEMO_MAP}` map, whose persona is a segment. `analyze (engine "
        "sections)` is the faster subset — stage funnel, transitions, top paths and a 4-step "
        "funnel through the Python API — comparable with the peers' work: pm4py = "
        "directly-follows graph + variants; retentioneering = eventstream + transition graph + "
        "step matrix + funnel, on the same Parquet file. `code` is the commit measured (+: "
        "uncommitted engine edits); rows of earlier runs are kept where not measured again. "
        "Other work sharing the machine during a run makes its numbers slower, never faster.\n\n"
        f"{table(results)}\n\n"
        + ("## Each section's own time\n\nOne default analysis in one process (`bench/jobs.py "
           "sections`), its sections run one after the other so that each time is that section's "
           "alone (the command runs independent sections side by side); `(whole analysis)` is that "
           "serial run, imports and the store's opening excluded. `behaviour` is the hidden pass "
           "pain points read.\n\n"
           f"{section_table(sections)}\n\n" if sections else "")
        + "## Floors\n\n" + ("\n".join(floors(results, sections)) or "- (sizes run do not cover the floors)") + "\n"
        + "\nThe collector (events/s through `/v1/batch`, latency, drain) is measured by `bench/collector.py`, "
        "also run by `make bench`: see [RESULTS-collector.md](RESULTS-collector.md). The incremental store "
        "(appends, analysis of un-merged pieces, first ingest from Parquet since the typed read) is measured "
        "by `bench/store.py`: see [RESULTS-store.md](RESULTS-store.md).\n"
    )
    path = HERE / "RESULTS.md"
    path.write_text(text, encoding="utf-8")
    return path


def merge_earlier(results: list[Measure], path: Path) -> list[Measure]:
    """This run's measurements plus earlier ones (bench/out/results.json) for the rows
    (tool, task, size) not measured now, so `--sizes 1e8` alone still yields the whole
    table; sorted by size."""
    import json
    from dataclasses import asdict

    now = {(m.tool, m.task, m.events) for m in results}
    try:
        earlier = [Measure(**d) for d in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        earlier = []
    merged = [m for m in earlier if (m.tool, m.task, m.events) not in now] + results
    order = {"journeymap": 0, "pm4py": 1, "retentioneering": 2}
    merged.sort(key=lambda m: (m.events, order.get(m.tool, 9), m.task != "ingest"))
    path.write_text(json.dumps([asdict(m) for m in merged], indent=1), encoding="utf-8")
    return merged


def section_times(ws: Path, map_ref: str, name: str) -> dict[str, float]:
    """Each section's own time in one default analysis of ``map_ref`` (bench/jobs.py)."""
    import json

    times_file = OUT / f"{name}-sections.json"
    subprocess.run([sys.executable, str(JOBS), "sections", str(ws), map_ref, str(times_file)], check=True)
    return {k: float(v) for k, v in json.loads(times_file.read_text(encoding="utf-8")).items()}


def demo_workload(customers: int, repeats: int, results: list[Measure],
                  reuse: bool) -> dict[str, float]:
    """The demo company at ``customers``: the whole command, ``--fast``, and each
    section's own time (returned)."""
    ws = OUT / f"demo-{customers}"
    if not (reuse and (ws / "journeymap.duckdb").exists()):
        shutil.rmtree(ws, ignore_errors=True)
        subprocess.run([sys.executable, str(JOBS), "demo", str(ws), str(customers)], check=True)
    import duckdb

    with duckdb.connect(str(ws / "journeymap.duckdb"), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM event_log").fetchone()
    n = int(row[0]) if row else 0
    print(f"demo company, {customers:,} customers: {n:,} events", flush=True)
    out_json = str(OUT / f"demo-{customers}.json")
    base = ["cli", "analyze", DEMO_MAP, "-w", str(ws), "--json", out_json]
    results.append(measure("journeymap", f"demo {customers // 1000}k: {FULL}", n, base, repeats))
    results.append(measure("journeymap", f"demo {customers // 1000}k: {FAST}", n,
                           [*base, "--fast"], repeats))
    for m in results[-2:]:
        print(f"  {m.tool:16} {m.task:44} {m.wall:8.2f} s  {_gib(m.rss):>10}  {m.note}", flush=True)
    return section_times(ws, DEMO_MAP, f"demo-{customers}")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:  # a runner process: one job, its own RUSAGE_CHILDREN
        wall, rss, ok, note = run_once(argv[3:], float(argv[1]))
        print(f"{wall:.3f}\t{rss}\t{'ok' if ok else 'failed'}\t{note}")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--quick", action="store_true", help="1 M events, one run, no peers")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peers-max", type=float, default=1e7)
    parser.add_argument("--demo-customers", type=int, default=250_000,
                        help="the demo company's size for the second workload (0: skip it)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep existing workspaces: measure analyze (and the peers), not ingest")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    repeats, peers_max = args.repeats, int(args.peers_max)
    if args.quick:
        sizes, repeats, peers_max = [1_000_000], 1, 0
        args.demo_customers = min(args.demo_customers, 20_000)
    results: list[Measure] = []
    sections: SectionTimes = {}
    for n in sizes:
        reps = repeats if n <= 10_000_000 else 1
        data = generate(n, OUT / f"events-{n}.parquet")
        ws = OUT / f"ws-{n}"
        print(f"{_fmt_size(n)} events: {data}", flush=True)
        if not (args.reuse and (ws / "journeymap.duckdb").exists()):
            results.append(measure("journeymap", "ingest", n, ["ingest", str(ws), str(data)],
                                   reps, before=[str(ws)]))
        map_file = OUT / f"discovered-{n}.yaml"
        subprocess.run([sys.executable, str(JOBS), "discover", str(ws), str(map_file)], check=True)
        out_json = str(OUT / f"analysis-{n}.json")
        results.append(measure("journeymap", FULL, n, ["cli", "analyze", str(map_file), "-w", str(ws),
                                                      "--json", out_json], reps))
        results.append(measure("journeymap", FAST, n, ["cli", "analyze", str(map_file), "-w", str(ws),
                                                      "--fast", "--json", out_json], reps))
        results.append(measure("journeymap", ENGINE, n,
                               ["analyze", str(ws), str(map_file), out_json], reps))
        if n == max(sizes):
            sections[f"{_fmt_size(n)} events, discovered map"] = section_times(ws, str(map_file), f"ws-{n}")
        if n <= peers_max:
            results.append(measure("pm4py", "dfg + variants", n, ["pm4py", str(data)], reps))
            results.append(measure("retentioneering", "graph + steps + funnel", n,
                                   ["retentioneering", str(data)], reps))
        for m in results:
            if m.events == n:
                print(f"  {m.tool:16} {m.task:32} {m.wall:8.2f} s  {_gib(m.rss):>10}  {m.note}",
                      flush=True)
    if args.demo_customers:
        sections[f"demo {args.demo_customers // 1000}k, {DEMO_MAP}"] = demo_workload(
            args.demo_customers, repeats, results, args.reuse)
    results = merge_earlier(results, OUT / "results.json")
    print()
    print(table(results))
    if sections:
        print()
        print(section_table(sections))
    print("\n".join(floors(results, sections)))
    path = write_results(results, machine(), argv, sections)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
