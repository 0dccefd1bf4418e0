"""The Python API (journeymap.api): the same results and errors as the CLI, every section
as a DataFrame with its intervals and n, inline display, and the example notebooks run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import journeymap as jm
from journeymap.api.frames import TABLES, flatten
from journeymap.cli import main
from journeymap.demo.generate import generate_demo
from journeymap.errors import JourneymapError
from journeymap.workspace import Workspace as Service

SME = "sme-onboarding-churn"
EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400-customer demo company with every kind of data loaded."""
    root = tmp_path_factory.mktemp("api-demo")
    with Service.create(root) as ws:
        files = generate_demo(ws.root, customers=400, seed=5)
        for kind in ("customers", "events", "feedback", "transactions", "transcripts"):
            ws.ingest(kind, [getattr(files, kind)])
    return root


@pytest.fixture(scope="module")
def ws(demo: Path):
    with jm.open_workspace(demo, progress=False) as w:
        yield w


@pytest.fixture(scope="module")
def full(ws):
    return ws.analyze(SME)


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_an_analysis_is_what_analyze_json_writes(demo: Path, ws, full, tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    _cli("analyze", SME, "-w", str(demo), "--json", str(out))
    assert full.to_dict() == json.loads(out.read_text())
    assert full.to_json() + "\n" == out.read_text()
    # the options by the same names, filters included
    out2 = tmp_path / "b.json"
    _cli("analyze", SME, "-w", str(demo), "--segment", "plan == 'starter'", "--since", "2025-09-01",
         "--by", "segment", "--fast", "--json", str(out2))
    filtered = ws.analyze(SME, segment="plan == 'starter'", since="2025-09-01", by="segment", fast=True)
    assert filtered.to_dict() == json.loads(out2.read_text())
    assert filtered.scope["segment"] == "plan == 'starter'"
    assert filtered.scope["customers"] < full.scope["customers"]
    assert "clv" not in filtered and "clv" in full


def test_every_section_is_a_data_frame_with_its_intervals_and_n(full) -> None:
    import pandas as pd

    names = full.tables()
    assert {"stages", "touchpoints", "pain_points", "feedback", "attribution", "clv", "churn", "themes"} <= set(names)
    for name in names:
        frame = getattr(full, name)
        assert isinstance(frame, pd.DataFrame), name
    raw = full["stages"]
    stages = full.stages
    assert list(stages["id"]) == [s["id"] for s in raw]
    assert list(stages["customers"]) == [s["customers"] for s in raw]
    # a touchpoint's CSAT is three numbers and its n, as the feedback section has them
    tp = full.touchpoints
    answered = tp[tp["csat_n"].notna()]
    assert len(answered) >= 2
    fb = full["feedback"]["touchpoints"]
    for row in answered.itertuples():
        kpi = fb[row.id]["csat"]
        assert (row.csat, row.csat_n, row.csat_ci_low, row.csat_ci_high) == (
            kpi["value"], kpi["n"], kpi["ci_low"], kpi["ci_high"])
        assert row.csat_ci_low <= row.csat <= row.csat_ci_high
    # pain points keep their evidence: value against baseline, n, interval, corrected p
    pains = full.pain_points
    assert list(pains["rank"]) == [p["rank"] for p in full["pain_points"]]
    first = full["pain_points"][0]["evidence"]
    assert pains.loc[0, "evidence_n"] == first["n"]
    if first.get("ci"):
        assert [pains.loc[0, "evidence_ci_low"], pains.loc[0, "evidence_ci_high"]] == first["ci"]
    # long forms: the feedback per level, the cohorts per period
    feedback = full.feedback
    assert set(feedback["level"]) <= {"journey", "stage", "touchpoint"}
    assert {"value", "n", "ci_low", "ci_high"} <= set(feedback.columns)
    cohorts = full.cohorts
    first_cohort = full["cohorts"]["cohorts"][0]
    assert list(cohorts[cohorts["cohort"] == first_cohort["cohort"]]["retention"]) == first_cohort["retention"]
    paths = full.paths
    assert paths.loc[0, "path_text"] == " → ".join(full["paths"][0]["path"])


def test_arrow_and_polars(full) -> None:
    import polars as pl

    table = full.to_arrow("stages")
    assert table.num_rows == len(full["stages"])
    frame = full.to_polars("touchpoints")
    assert isinstance(frame, pl.DataFrame)
    assert frame["customers"].to_list() == [t["customers"] for t in full["touchpoints"]]


def test_a_section_left_out_or_without_data_says_so(ws, tmp_path: Path) -> None:
    fast = ws.analyze(SME, sections=["stages"])
    with pytest.raises(JourneymapError, match="section 'clv' is not in this analysis"):
        fast.clv
    with pytest.raises(JourneymapError, match="unknown table 'nope'"):
        fast.table("nope")
    bare = jm.open_workspace(tmp_path / "bare", create=True, progress=False)
    shutil.copy(ws.root / "maps" / f"{SME}.yaml", bare.root / "maps")
    bare.ingest("events", ws.root / "data" / "events.parquet")
    no_money = bare.analyze(SME, sections=["clv"])
    assert no_money.clv.empty and no_money.clv.attrs["note"]


@pytest.mark.parametrize(("options", "cli", "message"), [
    ({"segment": "nosuch == 1"}, ["--segment", "nosuch == 1"], "unknown field 'nosuch'"),
    ({"since": "2025-13-01"}, ["--since", "2025-13-01"], "2025-13-01: expected a date"),
    ({"sections": ["stages", "nope"]}, ["--sections", "stages,nope"], "unknown section 'nope'"),
    ({"funnel": "signup,renewal", "funnel_window": "7x"}, ["--funnel", "signup,renewal", "--funnel-window", "7x"],
     "7x: expected a number and a unit"),
])
def test_the_same_errors_as_the_command(demo: Path, ws, options: dict, cli: list[str], message: str) -> None:
    with pytest.raises(JourneymapError, match=message) as err:
        ws.analyze(SME, **options)
    result = CliRunner().invoke(main, ["analyze", SME, "-w", str(demo), *cli])
    assert result.exit_code != 0
    # the same text, but for the option's spelling (--since vs since)
    assert str(err.value).split(": ", 1)[-1] in " ".join(result.output.split())
    assert "\n" not in str(err.value)


def test_own_column_names_load_and_bad_rows_are_kept(ws, tmp_path: Path) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text("Record ID,Customer tier,Number of Employees\nC1,SME,12\n,SME,40\nC2,Enterprise,2000\n")
    mine = jm.open_workspace(tmp_path / "mine", create=True, progress=False)
    report = mine.ingest("customers", crm, customer_id="Record ID", segment="Customer tier")
    assert (report.rows_read, report.loaded, report.quarantined) == (3, 2, 1)
    bad = mine.quarantine()
    assert list(bad["row"]) == [2] and list(bad["field"]) == ["customer_id"]
    assert bad.loc[0, "file"].endswith("crm.csv")
    tables = mine.tables().set_index("table")
    assert tables.loc["customers", "rows"] == 2
    assert "segment" in [d[0] for d in mine.service.store.con.execute("SELECT * FROM customers LIMIT 0").description]
    with pytest.raises(JourneymapError, match="unknown data kind 'people'"):
        mine.ingest("people", crm)


def test_maps_discover_and_render(ws, tmp_path: Path) -> None:
    maps = ws.maps()
    assert set(maps["id"]) >= {SME} and maps["problem"].isna().all()
    m = ws.map(SME)
    outline = m.outline()
    assert len(outline) == len(m.document.touchpoints)
    assert m.yaml() == (ws.root / "maps" / f"{SME}.yaml").read_text()
    draft = ws.discover("drafted", stages=3)
    assert draft.path is None and not (ws.root / "maps" / "drafted.yaml").exists()
    assert len(draft.document.stages) == 3 and "\njourneymap: 1\n" in draft.yaml()
    out = ws.render(m, tmp_path / "sme.html")
    assert out.read_text().startswith("<!doctype html>") or "<html" in out.read_text()[:200]


def test_what_a_notebook_shows(ws, full, tmp_path: Path) -> None:
    page = ws.map(SME)._repr_html_()
    assert page.startswith('<iframe srcdoc="') and 'sandbox=""' in page
    assert "<script" not in page.split('srcdoc="', 1)[1].split('"', 1)[0]  # escaped into the attribute
    summary = full._repr_html_()
    assert full.map.title in summary and "<svg" in summary and "Top pain points" in summary
    charts = {c.id for c in full.charts()}
    assert {"funnel", "sankey", "emotion"} <= charts
    svg = full.sankey().save(tmp_path / "s.svg")
    assert svg.read_text().startswith("<svg")
    sme = ws.analyze(SME, all_customers=True, segment="segment == 'SME'", sections=["stages"])
    ent = ws.analyze(SME, all_customers=True, segment="segment == 'Enterprise'", sections=["stages"])
    both = sme.compare(ent, labels=("SME", "Enterprise"))
    assert both.id == "compare" and "SME" in both.svg and "Enterprise" in both.svg
    with pytest.raises(JourneymapError, match="no data for it"):
        sme.sankey()


def test_clv_per_customer_and_as_the_command(demo: Path, ws, tmp_path: Path) -> None:
    clv = ws.clv(by="segment")
    out = tmp_path / "clv.json"
    _cli("clv", "-w", str(demo), "--by", "segment", "--json", str(out))
    assert clv.to_dict() == json.loads(out.read_text())
    per = clv.customers
    summary = clv.summary.set_index("group")
    assert len(per) == summary.loc["all customers", "customers"]
    assert per["clv"].sum() == pytest.approx(summary.loc["all customers", "clv_total"], rel=1e-6)
    assert {"bgnbd", "gamma_gamma"} <= set(clv.models["model"])
    with pytest.raises(JourneymapError, match="by nosuch: no such customer attribute"):
        ws.clv(by="nosuch")


def test_flatten_keeps_every_number() -> None:
    row = {"id": "x", "csat": {"metric": "csat", "value": 0.5, "n": 10, "ci_low": 0.2, "ci_high": 0.8,
                               "mean": {"value": 3.1, "ci_low": 2.9, "ci_high": 3.3}},
           "interval": [1, 2], "evidence": {"value": 0.4, "baseline": 0.1, "ci": [0.3, 0.5]}, "path": ["a", "b"]}
    assert flatten(row) == {
        "id": "x", "csat": 0.5, "csat_n": 10, "csat_ci_low": 0.2, "csat_ci_high": 0.8, "csat_mean": 3.1,
        "csat_mean_ci_low": 2.9, "csat_mean_ci_high": 3.3, "ci_low": 1, "ci_high": 2, "evidence_value": 0.4,
        "evidence_baseline": 0.1, "evidence_ci_low": 0.3, "evidence_ci_high": 0.5, "path": ["a", "b"]}


def test_every_table_is_documented() -> None:
    from journeymap.api.analysis import Analysis

    for name, spec in TABLES.items():
        assert getattr(Analysis, name).__doc__ == spec.doc, name


def test_importing_journeymap_does_not_load_the_api() -> None:
    import subprocess
    import sys

    code = "import journeymap, journeymap.cli, sys; print('pandas' in sys.modules, 'journeymap.api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.slow
def test_the_example_notebooks_run(tmp_path: Path) -> None:
    """Every cell of every example notebook, on the 2,000-customer demo they make."""
    import nbformat
    from nbclient import NotebookClient

    books = sorted(EXAMPLES.glob("*.ipynb"))
    assert len(books) == 3
    outputs: dict[str, str] = {}
    for book in books:
        nb = nbformat.read(book, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{book.name}: saved with outputs"
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{book.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
        outputs[book.name] = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
    first, exports, compare = outputs.values()
    assert "<iframe srcdoc=" in first and "Paths between stages" in first and "Top pain points" in first
    assert "nps score must be" in exports and "missing required value" in exports
    assert "Side by side" in compare
    assert (tmp_path / "demo-notebook" / "reports" / "sme-from-notebook.html").is_file()
