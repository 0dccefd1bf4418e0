"""The incremental event log (ADR 0018): appends land as ordered pieces, merges make one.

Any sequence of appends and merges gives the same stored journeys, and the same full
analysis, as one ingest of all the data.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from journeymap.data import event_pieces
from journeymap.data.event_pieces import pieces
from journeymap.demo.generate import generate_demo
from journeymap.errors import JourneymapError
from journeymap.workspace import Workspace
from tests.data.test_ingest import assert_journeys_whole

MAP = "sme-onboarding-churn"


def _journeys(ws: Workspace) -> list[tuple[Any, ...]]:
    """Every event in stored order, with its event's name (ids can differ by load)."""
    return ws.store.con.execute("""SELECT l.customer_id, l."timestamp", n.event, l.channel
        FROM event_log AS l JOIN event_names AS n USING (event_id) ORDER BY l.rowid""").fetchall()


def _canonical(ws: Workspace) -> list[tuple[Any, ...]]:
    return sorted(_journeys(ws), key=lambda r: (r[0],))  # stable: each journey's own order kept


@pytest.fixture(scope="module")
def demo_slices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The 300-customer demo; its event log shuffled (seeded) and cut in 12 slices of
    rows, so that nearly every customer's journey spans several slices and
    same-timestamp events stand in the same order in the slices as in the whole."""
    root = tmp_path_factory.mktemp("pieces")
    files = generate_demo(root / "gen", customers=300, seed=11)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE e AS SELECT * FROM read_parquet('{files.events}') ORDER BY hash(customer_id, "
                "\"timestamp\", event) ")
    n = con.execute("SELECT count(*) FROM e").fetchone()[0]
    whole = root / "all.parquet"
    con.execute(f"COPY (SELECT * FROM e ORDER BY rowid) TO '{whole}' (FORMAT parquet)")
    cuts = sorted(random.Random(3).sample(range(1, n), 11))
    slices = []
    for i, (lo, hi) in enumerate(zip([0, *cuts], [*cuts, n])):
        path = root / f"slice-{i:02d}.parquet"
        con.execute(f"COPY (SELECT * FROM e WHERE rowid >= {lo} AND rowid < {hi} ORDER BY rowid) "
                    f"TO '{path}' (FORMAT parquet)")
        slices.append(path)
    con.close()
    jmap = next(p for p in files.maps if p.stem == MAP)
    one = Workspace.create(root / "one")
    _load_the_rest(one, files)
    one.ingest("events", [whole])
    analysis = one.analyze(jmap)
    return {"root": root, "files": files, "slices": slices, "one": one, "analysis": analysis,
            "map": jmap}


def _load_the_rest(ws: Workspace, files: Any) -> None:
    for kind in ("customers", "feedback", "transactions"):
        ws.ingest(kind, [getattr(files, kind)])


def _dump(analysis: dict[str, Any]) -> str:
    return json.dumps(analysis, sort_keys=True, default=str)


@pytest.mark.parametrize("schedule", ["appends only", "merge now and then"])
def test_appends_and_merges_equal_one_ingest(demo_slices: dict[str, Any], schedule: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # slices of a small log touch most customers: append them all the same
    monkeypatch.setattr(event_pieces, "MERGE_SHARE", 2.0)
    one: Workspace = demo_slices["one"]
    with Workspace.create(demo_slices["root"] / f"pieces-{schedule.replace(' ', '-')}") as ws:
        _load_the_rest(ws, demo_slices["files"])
        merges = {4, 9} if schedule != "appends only" else set()
        appended = 0
        for i, path in enumerate(demo_slices["slices"]):
            report = ws.ingest("events", [path])
            appended += any("appended as a new piece" in n for n in report.notes)
            if i in merges:
                assert ws.compact()[0] == "merged"
            rows = _journeys(ws)
            assert_journeys_whole([r[:2] for r in rows])  # at every moment
        info = pieces(ws.store.con)
        assert appended == 11
        assert info["appends"] == (11 if schedule == "appends only" else 2)
        # the same journeys, each in the same order
        assert _canonical(ws) == _canonical(one)
        # and the same full analysis, every section
        assert _dump(ws.analyze(demo_slices["map"])) == _dump(demo_slices["analysis"])
        if schedule == "appends only":
            assert ws.compact() == ("merged", len(_journeys(one)))
            assert _journeys(ws) == _journeys(one)  # one sorted piece, as one ingest wrote it
            assert ws.compact()[0] == "nothing"


def test_a_big_append_merges_at_once(demo_slices: dict[str, Any]) -> None:
    """An append that would move more than half the log rewrites it as one piece."""
    with Workspace.create(demo_slices["root"] / "big") as ws:
        first, *rest = demo_slices["slices"]
        ws.ingest("events", [first])
        ws.ingest("events", rest)          # 11/12 of the data, touching every customer
        assert pieces(ws.store.con)["appends"] == 0
        assert _journeys(ws) == _journeys(demo_slices["one"])


def test_identify_joins_anonymous_events_stored_in_another_piece(tmp_path: Path) -> None:
    """Anonymous events in the merged piece, the identify that names them in an append:
    the customer's journey moves to the new piece whole, as one ingest of both gives."""
    def call(**kw: Any) -> str:
        return json.dumps(kw) + "\n"

    base = tmp_path / "base.jsonl"
    base.write_text("".join(
        call(type="track", userId=f"u{i}", event="Visited", messageId=f"b{i}",
             timestamp=f"2024-01-0{1 + i % 5}T10:00:00Z") for i in range(40))
        + call(type="track", anonymousId="anon-1", event="Viewed pricing", messageId="a1",
               timestamp="2024-01-02T09:00:00Z")
        + call(type="track", userId="u7", event="Opened app", messageId="u7-1",
               timestamp="2024-01-03T09:00:00Z"))
    later = tmp_path / "later.jsonl"
    later.write_text(call(type="identify", userId="u7", anonymousId="anon-1", messageId="i1",
                          timestamp="2024-01-04T09:00:00Z")
                     + call(type="track", userId="u7", event="Signed up", messageId="u7-2",
                            timestamp="2024-01-04T10:00:00Z"))
    results = []
    for name, loads in (("pieces", [[base], [later]]), ("one", [[base, later]])):
        with Workspace.create(tmp_path / name) as ws:
            for files in loads:
                ws.ingest("events", files, fmt="segment")
            rows = _journeys(ws)
            assert_journeys_whole([r[:2] for r in rows])
            results.append(_canonical(ws))
            if name == "pieces":
                assert pieces(ws.store.con)["appends"] == 1
                u7 = [r[2] for r in rows if r[0] == "u7"]
                assert u7 == ["Viewed pricing", "Opened app", "Visited", "Signed up"]
                assert not [r for r in rows if r[0] == "anon-1"]
    assert results[0] == results[1]


def test_status_and_compact_commands(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from journeymap.cli import main

    ws = tmp_path / "ws"
    first = tmp_path / "a.csv"
    first.write_text("customer_id,timestamp,event\n" + "".join(
        f"c{i},2024-01-0{1 + i % 9}T10:00:00Z,visit\n" for i in range(50)))
    later = tmp_path / "b.csv"
    later.write_text("customer_id,timestamp,event\nc3,2024-01-01T09:00:00Z,ad\n")
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(ws)]).exit_code == 0
    assert runner.invoke(main, ["ingest", "events", str(first), "-w", str(ws)]).exit_code == 0
    got = runner.invoke(main, ["ingest", "events", str(later), "-w", str(ws)])
    assert got.exit_code == 0 and "appended as a new piece" in got.output
    got = runner.invoke(main, ["status", "-w", str(ws)])
    assert "1 appended piece since the last merge" in got.output
    got = runner.invoke(main, ["compact", "-w", str(ws)])
    assert got.exit_code == 0, got.output
    assert "merged 1 appended piece into one sorted piece of 51 events" in got.output
    assert "nothing to do" in runner.invoke(main, ["compact", "-w", str(ws)]).output
    assert "appended piece" not in runner.invoke(main, ["status", "-w", str(ws)]).output


def test_the_drain_compacts_when_the_pieces_have_grown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each drain appends; once the appended pieces pass MAX_APPENDS the drain merges."""
    monkeypatch.setattr(event_pieces, "MAX_APPENDS", 3)
    with Workspace.create(tmp_path / "ws") as ws:
        base = tmp_path / "base.csv"
        base.write_text("customer_id,timestamp,event\n" + "".join(
            f"c{i},2024-01-01T10:00:00Z,visit\n" for i in range(100)))
        ws.ingest("events", [base])
        collector = ws.collector()
        reports = []
        for k in range(3):
            got = collector.receive({"userId": f"c{k}", "event": "Clicked", "messageId": f"m{k}",
                                     "timestamp": "2024-01-02T10:00:00Z"}, "track", "web")
            got.stored.result(timeout=10)
            reports.append(collector.drain())
        collector.close()
        assert [r.loaded for r in reports] == [1, 1, 1]
        assert [r.compacted for r in reports] == [0, 0, 103]
        assert pieces(ws.store.con)["appends"] == 0
        assert_journeys_whole(_journeys(ws))


_ROWS = st.lists(st.tuples(st.sampled_from(["c1", "c2", "c3", "c4", "c5"]),
                           st.integers(0, 6),  # day: many events share a timestamp
                           st.sampled_from(["a", "b", "c"])), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# a tie across pieces: c1's two events share a timestamp and arrive in two loads
@example(rows=[("c2", 1, "a"), ("c1", 0, "b"), ("c1", 0, "a")], cuts=[2], merges=set(), share=2.0)
@given(rows=_ROWS, cuts=st.lists(st.integers(1, 39), max_size=5), merges=st.sets(st.integers(0, 5)),
       share=st.sampled_from([0.0, 0.5, 2.0]))
def test_any_appends_and_merges_store_what_one_ingest_stores(tmp_path_factory: pytest.TempPathFactory,
                                                             rows: list[tuple[str, int, str]], cuts: list[int],
                                                             merges: set[int], share: float) -> None:
    """Property: cut a log anywhere, load the pieces in order with merges anywhere (and
    appends merged by size or never) — each customer's journey is whole at every moment
    and, at the end, event for event and in order what one ingest of the log stores,
    same-timestamp order included."""
    root = tmp_path_factory.mktemp("prop")
    lines = [f"{c},2024-01-0{1 + d}T10:00:00Z,{e}\n" for c, d, e in rows]
    bounds = sorted({x for x in cuts if x < len(lines)})
    parts = [lines[lo:hi] for lo, hi in zip([0, *bounds], [*bounds, len(lines)]) if lines[lo:hi]]

    def load(name: str, pieces: list[list[str]], merge_at: set[int]) -> list[tuple[Any, ...]]:
        old = event_pieces.MERGE_SHARE
        event_pieces.MERGE_SHARE = share
        try:
            with Workspace.create(root / name) as ws:
                for i, part in enumerate(pieces):
                    path = root / f"{name}-{i}.csv"
                    path.write_text("customer_id,timestamp,event\n" + "".join(part))
                    try:
                        ws.ingest("events", [path])
                    except JourneymapError:  # all duplicates of rows stored already
                        pass
                    if i in merge_at:
                        ws.compact()
                    assert_journeys_whole([r[:2] for r in _journeys(ws)])
                return _canonical(ws)
        finally:
            event_pieces.MERGE_SHARE = old

    assert load("pieces", parts, merges) == load("one", [lines], set())
