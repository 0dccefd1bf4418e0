"""CLV models against the published CDNOW results (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from click.testing import CliRunner

from journeymap.cli import main
from journeymap.metrics import clv_models as models
from journeymap.metrics.clv import ClvOptions, clv_section, fit_clv, summarise
from journeymap.workspace import Workspace

CAL_END = dt.date(1997, 9, 30)  # end of the 39-week calibration period


def test_bgnbd_reproduces_fhl_2005(cdnow_summary: dict[str, np.ndarray]) -> None:
    fit = models.fit_bgnbd(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    p = fit.params
    assert (round(p["r"], 3), round(p["alpha"], 3), round(p["a"], 3), round(p["b"], 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(fit.log_likelihood, 1) == -9582.4
    assert fit.converged and not fit.at_bound


def test_bgnbd_conditional_expectation_of_the_paper(cdnow_summary: dict[str, np.ndarray]) -> None:
    # FHL 2005, section 5: a customer with x = 2, t_x = 30.43, T = 38.86 buys 1.226 times in the next 39 weeks
    p = {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259}
    value = models.bgnbd_expected(p, 39.0, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert value[0] == pytest.approx(1.226, abs=2e-3)
    assert models.bgnbd_p_alive(p, np.array([0.0]), np.array([0.0]), np.array([38.86]))[0] == 1.0


def test_pareto_nbd_reproduces_fader_hardie_note(cdnow_summary: dict[str, np.ndarray]) -> None:
    fit = models.fit_pnbd(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"], start=(0.24, 4.4))
    p = fit.params
    assert (round(p["r"], 2), round(p["alpha"], 2), round(p["s"], 2), round(p["beta"], 2)) == (0.55, 10.58, 0.61, 11.67)
    assert round(fit.log_likelihood, 1) == -9595.0


def test_gamma_gamma_reproduces_fader_hardie(cdnow_summary: dict[str, np.ndarray]) -> None:
    fit = models.fit_gamma_gamma(cdnow_summary["x"], cdnow_summary["zbar"])
    p = fit.params
    assert (round(p["p"], 2), round(p["q"], 2)) == (6.25, 3.74)
    # the maximum is at gamma = 15.4477 (lifetimes finds the same); the note prints 15.44
    assert p["gamma"] == pytest.approx(15.44, abs=0.01)
    assert fit.n == 946
    spend = models.gg_expected_spend(p, np.array([0.0, 2.0]), np.array([0.0, 22.35]))
    assert spend[0] == pytest.approx(p["p"] * p["gamma"] / (p["q"] - 1))
    assert spend[1] == pytest.approx(p["p"] * (p["gamma"] + 2 * 22.35) / (2 * p["p"] + p["q"] - 1))


def _cdnow_table(path: Path) -> ibis.Table:
    t = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={"customer_id": pa.string(), "timestamp": pa.timestamp("us"), "amount": pa.float64()}))
    return ibis.memtable(t)


def test_summary_from_raw_transactions_matches_published(cdnow_transactions_csv: Path,
                                                         cdnow_summary: dict[str, np.ndarray]) -> None:
    summary, end = summarise(_cdnow_table(cdnow_transactions_csv), observation_end=CAL_END)
    assert end == CAL_END
    ids = np.array([int(c) for c in summary.column("customer_id").to_pylist()])
    order = np.argsort(ids)
    assert (ids[order] == cdnow_summary["id"]).all()
    for ours, theirs in (("x", "x"), ("t_x", "t_x"), ("T", "T"), ("monetary", "zbar")):
        assert np.abs(summary.column(ours).to_numpy()[order] - cdnow_summary[theirs]).max() < 0.006
    result = fit_clv(summary, ClvOptions(compare=False), observation_end=end)
    p = result.fits["bgnbd"].params
    assert (round(p["r"], 3), round(p["alpha"], 3), round(p["a"], 3), round(p["b"], 3)) == (0.243, 4.414, 0.793, 2.426)
    clv = result.customers.column("clv").to_numpy()
    assert np.isfinite(clv).all() and (clv >= 0).all()
    alive = result.customers.column("p_alive").to_numpy()
    assert ((alive > 0) & (alive <= 1)).all()


def test_clv_discounting_by_hand(cdnow_summary: dict[str, np.ndarray]) -> None:
    summary = pa.table({"customer_id": ["a", "b", "c"], "x": [2.0, 0.0, 5.0], "t_x": [30.43, 0.0, 20.0],
                        "T": [38.86, 38.86, 38.0], "monetary": [22.35, 0.0, 40.0]})
    opts = ClvOptions(horizon_months=3, discount_rate_annual=0.12, compare=False)
    result = fit_clv(summary, opts, observation_end=CAL_END)
    p, g = result.fits["bgnbd"].params, result.fits["gamma_gamma"].params
    month = 365.25 / 12 / 7
    x, tx, T = np.array([2.0]), np.array([30.43]), np.array([38.86])
    spend = models.gg_expected_spend(g, x, np.array([22.35]))[0]
    d = 1.12 ** (1 / 12) - 1
    cum = [0.0] + [models.bgnbd_expected(p, k * month, x, tx, T)[0] for k in (1, 2, 3)]
    expected = sum((cum[k] - cum[k - 1]) * spend / (1 + d) ** k for k in (1, 2, 3))
    assert result.customers.column("clv").to_pylist()[0] == pytest.approx(expected)


def test_cli_on_a_transactions_file(cdnow_transactions_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "clv.json"
    res = CliRunner().invoke(main, ["clv", "--transactions", str(cdnow_transactions_csv),
                                    "--observation-end", "1997-09-30", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "bgnbd" in res.output and "-9,582.43" in res.output
    data = json.loads(out.read_text())
    assert data["models"]["bgnbd"]["log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    assert data["models"]["pareto_nbd"]["params"]["s"] == pytest.approx(0.61, abs=0.005)
    assert data["summary"]["customers"] == 2357 and data["summary"]["repeat_customers"] == 946


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["clv", "--transactions", str(tmp_path / "missing.csv")])
    assert res.exit_code == 1 and "no such file" in res.output


def test_demo_clv_per_segment_and_persona(demo: Workspace) -> None:
    s = clv_section(demo.store.ibis(), demo.load_map("enterprise-acquisition"))
    assert s["available"] is True
    assert set(s["segments"]) == {"Enterprise", "SME"}
    assert s["persona"]["customers"] == s["segments"]["Enterprise"]["customers"]
    assert s["segments"]["Enterprise"]["clv_mean"] > s["segments"]["SME"]["clv_mean"]
    assert s["summary"]["customers"] == sum(v["customers"] for v in s["segments"].values())
    json.dumps(s)  # JSON-ready


def test_clv_section_without_transactions(tmp_path: Path) -> None:
    from .tiny import tiny_workspace

    with tiny_workspace(tmp_path / "ws") as ws:
        s = clv_section(ws.store.ibis(), ws.load_map("tiny"))
    assert s == {"available": False, "reason": "no transactions loaded"}
