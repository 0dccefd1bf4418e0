"""One benchmark job per process: ``python bench/jobs.py JOB ARGS...``.

The runner times each job as a whole process (imports included, as a user would
run it) and reads its peak RSS from the kernel.  Jobs:

* ``ingest WS FILE``     — journeymap: load the Parquet event log into a fresh store
* ``discover WS MAP``    — journeymap: draft a map from the events (setup, not timed)
* ``analyze WS MAP OUT`` — journeymap: stage funnel, transitions, top paths, funnel
  (the engine sections alone, through the Python API: the subset shown beside the
  whole command)
* ``cli ARGS...``        — journeymap: the command line itself, as a user runs it
  (``journeymap analyze MAP -w WS --json OUT``, default sections)
* ``sections WS MAP OUT`` — journeymap: every default section's own wall time (JSON)
* ``demo DIR N``         — journeymap: generate and load the demo company (setup)
* ``pm4py FILE``         — pm4py: directly-follows graph + variants
* ``retentioneering FILE`` — retentioneering: eventstream + transition graph +
  step matrix + funnel
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from spec import FUNNEL  # noqa: E402 (light: jobs are timed from the start)


def ingest(ws_dir: str, file: str) -> None:
    from journeymap.workspace import Workspace

    with Workspace.create(ws_dir) as ws:
        report = ws.ingest("events", [file], fmt="parquet")
        print(json.dumps({"loaded": report.loaded}))


def discover(ws_dir: str, out: str) -> None:
    from journeymap.engine.discover import discover as run
    from journeymap.workspace import Workspace

    with Workspace.open(ws_dir) as ws:
        found = run(ws.store.ibis())
        Path(out).write_text(found.yaml, encoding="utf-8")


def analyze(ws_dir: str, map_file: str, out: str) -> None:
    from journeymap.engine.analyze import analyze_map
    from journeymap.engine.funnels import FunnelSpec
    from journeymap.model import load_map
    from journeymap.workspace import Workspace

    with Workspace.open(ws_dir) as ws:
        result = analyze_map(ws.store.ibis(), load_map(map_file),
                             funnel_spec=FunnelSpec(tuple(FUNNEL), level="event"),
                             sections=("map", "stages", "transitions", "paths", "funnel"))
    Path(out).write_text(json.dumps(result, default=str), encoding="utf-8")


def cli(*args: str) -> None:
    from journeymap.cli import main

    try:
        main(list(args), standalone_mode=False)
    except SystemExit as exc:  # click's exit codes: 0 is success
        if exc.code:
            raise


def sections(ws_dir: str, map_ref: str, out: str) -> None:
    """Each section's own wall time in one default analysis, the sections run one after
    the other (side by side, each one's time would include the others' on the same
    threads); "(whole analysis)" is that serial run's time, not the command's."""
    import time

    from dataclasses import replace

    import journeymap.analysis as analysis
    import journeymap.engine.analyze as engine
    from journeymap.engine.sections import SECTIONS
    from journeymap.workspace import Workspace

    side_by_side = engine.side_by_side

    def one_after_another(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return side_by_side(*args, **{**kwargs, "parallel": False})

    engine.side_by_side = analysis.side_by_side = one_after_another

    times: dict[str, float] = {}
    for name, section in list(SECTIONS.items()):
        if section.run is None:
            continue

        def run(c, fn=section.run, name=name):  # noqa: ANN001, ANN202
            start = time.perf_counter()
            try:
                return fn(c)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - start
        SECTIONS[name] = replace(section, run=run)

    with Workspace.open(ws_dir) as ws:
        start = time.perf_counter()
        ws.analyze(map_ref)
        times["(whole analysis)"] = time.perf_counter() - start
    Path(out).write_text(json.dumps(times, indent=1), encoding="utf-8")


def demo(ws_dir: str, customers: str) -> None:
    """The demo company's data and maps, loaded (no pages rendered)."""
    from journeymap.demo.generate import generate_demo
    from journeymap.workspace import Workspace

    with Workspace.create(ws_dir, name="demo") as ws:
        files = generate_demo(ws.root, customers=int(customers), seed=7)
        for kind in ("customers", "events", "feedback", "transactions", "transcripts"):
            ws.ingest(kind, [getattr(files, kind)])


def pm4py_job(file: str) -> None:
    import pandas as pd
    import pm4py

    df = pd.read_parquet(file)
    df["event"] = df["event"].astype(str)
    keys = {"case_id_key": "customer_id", "activity_key": "event", "timestamp_key": "timestamp"}
    dfg, start, end = pm4py.discover_dfg(df, **keys)
    variants = pm4py.get_variants(df, **keys)
    print(json.dumps({"edges": len(dfg), "variants": len(variants)}))


def retentioneering_job(file: str) -> None:
    os.environ.setdefault("RETENTIONEERING_NO_TRACK", "1")
    import pandas as pd
    from retentioneering.eventstream import Eventstream

    df = pd.read_parquet(file).rename(columns={"customer_id": "user_id"})
    df["event"] = df["event"].astype(str)
    stream = Eventstream(df[["user_id", "event", "timestamp"]])
    graph = stream.transition_graph_data(edge_weight="count")
    stream.step_matrix_data(max_steps=10)
    funnel = stream.funnel_data(steps=list(FUNNEL))
    print(json.dumps({"edges": int((graph > 0).sum().sum()), "funnel": str(funnel)[:200]}))


JOBS = {"ingest": ingest, "discover": discover, "analyze": analyze, "cli": cli,
        "sections": sections, "demo": demo,
        "pm4py": pm4py_job, "retentioneering": retentioneering_job}

if __name__ == "__main__":
    JOBS[sys.argv[1]](*sys.argv[2:])
