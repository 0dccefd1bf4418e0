"""The demo company: deterministic files, contract columns, planted effects, maps.

The planted effects are measured here independently of the generator's own SQL (with
pandas), and must equal the observed values in ground_truth.json and fall within the
recorded tolerance of the expected values.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from ruamel.yaml import YAML

from journeymap.demo.generate import DemoFiles, generate_demo
from journeymap.demo.catalog import CHANNELS, END, EVENT_NAMES, START
from journeymap.model.document import JourneyMap, Touchpoint

N = 2_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_demo(tmp_path_factory.mktemp("demo"), customers=N, seed=7)


@pytest.fixture(scope="module")
def events(demo: DemoFiles) -> pd.DataFrame:
    return pq.read_table(demo.events).to_pandas()


@pytest.fixture(scope="module")
def customers(demo: DemoFiles) -> pd.DataFrame:
    return pd.read_csv(demo.customers)


@pytest.fixture(scope="module")
def feedback(demo: DemoFiles) -> pd.DataFrame:
    df = pd.read_csv(demo.feedback)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df


@pytest.fixture(scope="module")
def truth(demo: DemoFiles) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(demo.ground_truth.read_text())
    return data


def _effect(truth: dict[str, Any], effect_id: str) -> dict[str, Any]:
    found = [e for e in truth["effects"] if e["id"] == effect_id]
    assert len(found) == 1, effect_id
    return found[0]


def _check(effect: dict[str, Any], measured: dict[str, float]) -> None:
    for key, value in measured.items():
        assert value == pytest.approx(effect["observed"][key], abs=2e-4), key
        assert abs(value - effect["expected"][key]) <= effect["tolerance"][key], (
            key, value, effect["expected"][key], effect["tolerance"][key])


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate_demo(tmp_path / "a", customers=1_000, seed=11)
    b = generate_demo(tmp_path / "b", customers=1_000, seed=11)
    c = generate_demo(tmp_path / "c", customers=1_000, seed=12)
    assert _digest(a.root) == _digest(b.root)
    assert len(_digest(a.root)) == 9
    assert _digest(a.root)["data/events.parquet"] != _digest(c.root)["data/events.parquet"]


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    generate_demo(tmp_path, customers=200, seed=1, progress=lambda d, c, t: calls.append((d, c, t)))
    done = [c for _, c, _ in calls]
    assert done == sorted(done) and done[-1] == calls[-1][2]


def test_files_and_columns(demo: DemoFiles, events: pd.DataFrame, customers: pd.DataFrame,
                           feedback: pd.DataFrame) -> None:
    assert list(events.columns) == ["customer_id", "timestamp", "event", "channel", "session_id", "properties"]
    assert str(events["timestamp"].dtype) == "datetime64[us, UTC]"
    assert list(customers.columns) == ["customer_id", "segment", "company_size", "industry", "country", "plan",
                                       "billing_period", "signup_date", "role", "acquisition_channel", "status"]
    assert list(feedback.columns) == ["customer_id", "timestamp", "metric", "score", "touchpoint", "event", "comment"]
    tx = pd.read_csv(demo.transactions)
    assert list(tx.columns) == ["customer_id", "timestamp", "amount", "currency", "order_id"]
    lines = demo.transcripts.read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert set(rows[0]) >= {"customer_id", "timestamp", "text", "channel", "touchpoint", "speaker"}
    assert {r["speaker"] for r in rows} == {"agent", "customer"}
    assert [m.name for m in demo.maps] == ["sme-onboarding-churn.yaml", "enterprise-acquisition.yaml",
                                          "day-in-the-life.yaml"]

    assert len(customers) == N and customers["customer_id"].is_unique
    assert 0.15 < (customers["segment"] == "Enterprise").mean() < 0.25
    assert set(customers["status"]) == {"prospect", "active", "cancelled"}
    assert 25 < len(events) / N < 60
    assert set(events["event"]) == set(EVENT_NAMES) and len(EVENT_NAMES) >= 40
    assert set(events["channel"]) <= set(CHANNELS)
    assert events["timestamp"].min() >= pd.Timestamp(START) and events["timestamp"].max() <= pd.Timestamp(END)
    assert all(isinstance(json.loads(p), dict) for p in events["properties"].iloc[::97])
    # sorted by customer, then time
    key = list(zip(events["customer_id"], events["timestamp"]))
    assert key == sorted(key)
    fkey = list(zip(feedback["customer_id"], feedback["timestamp"]))
    assert fkey == sorted(fkey)

    scales = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
    for metric, (low, high) in scales.items():
        s = feedback.loc[feedback["metric"] == metric, "score"]
        assert len(s) > 0 and s.between(low, high).all()
    comments = feedback["comment"].dropna()
    assert comments.nunique() > 100 and not comments.str.contains('"').any()
    assert (tx["amount"] < 0).any() and tx.loc[tx["amount"] < 0, "order_id"].str.startswith("RF-").all()
    assert tx["order_id"].is_unique and set(tx["currency"]) <= {"USD", "EUR", "GBP"}


def test_churned_customers_stop(events: pd.DataFrame, customers: pd.DataFrame) -> None:
    last = events.groupby("customer_id", sort=False)["event"].last()
    cancelled = set(events.loc[events["event"] == "subscription_cancelled", "customer_id"])
    assert cancelled == set(customers.loc[customers["status"] == "cancelled", "customer_id"])
    assert (last[list(cancelled)] == "subscription_cancelled").all()
    buyers = set(events.loc[events["event"].isin(["contract_signed", "checkout_completed"]), "customer_id"])
    assert buyers == set(customers.loc[customers["status"] != "prospect", "customer_id"])


def _first(events: pd.DataFrame, name: str) -> pd.Series:
    return events[events["event"] == name].groupby("customer_id")["timestamp"].min()


def test_sme_onboarding_stall(events: pd.DataFrame, customers: pd.DataFrame, feedback: pd.DataFrame,
                              truth: dict[str, Any]) -> None:
    seg = customers.set_index("customer_id")["segment"]
    started = set(events.loc[events["event"] == "data_import_started", "customer_id"])
    completed = set(events.loc[events["event"] == "data_import_completed", "customer_id"])
    sme = {c for c in started if seg[c] == "SME"}
    ent = started - sme
    stalled, done = sme - completed, sme & completed
    outcome = events[events["event"].isin(["subscription_cancelled", "subscription_renewed"])]
    churned = outcome.groupby("customer_id")["event"].agg(lambda s: (s == "subscription_cancelled").any())
    topics = events.loc[events["event"] == "support_ticket_opened", ["customer_id", "properties"]]
    import_ticket = set(topics.loc[topics["properties"].map(lambda p: json.loads(p)["topic"]) == "data_import",
                                   "customer_id"])
    onb = feedback[feedback["touchpoint"] == "data_import"]
    csat = onb[onb["metric"] == "csat"].set_index("customer_id")["score"]
    ces = onb[onb["metric"] == "ces"].set_index("customer_id")["score"]

    def churn(group: set[str]) -> float:
        return float(churned[churned.index.isin(group)].mean())

    measured = {
        "completion_rate_sme": len(done) / len(sme),
        "completion_rate_enterprise": len(ent & completed) / len(ent),
        "csat_mean_sme_stalled": float(csat[csat.index.isin(stalled)].mean()),
        "csat_mean_sme_completed": float(csat[csat.index.isin(done)].mean()),
        "ces_mean_sme_stalled": float(ces[ces.index.isin(stalled)].mean()),
        "import_ticket_rate_sme_stalled": len(stalled & import_ticket) / len(stalled),
        "import_ticket_rate_sme_completed": len(done & import_ticket) / len(done),
        "churn_rate_sme_stalled": churn(stalled),
        "churn_rate_sme_completed": churn(done),
        "churn_rate_enterprise": churn(ent),
    }
    _check(_effect(truth, "sme_onboarding_stall"), measured)
    assert measured["completion_rate_sme"] < measured["completion_rate_enterprise"] - 0.2
    assert measured["csat_mean_sme_stalled"] < measured["csat_mean_sme_completed"] - 1.0
    assert measured["churn_rate_sme_stalled"] > 2 * measured["churn_rate_sme_completed"]
    import_comments = onb.loc[onb["customer_id"].isin(stalled), "comment"].dropna()
    assert import_comments.str.contains("CSV|column|mapping|import", regex=True).mean() > 0.5


def test_webinar_drives_enterprise_conversion(events: pd.DataFrame, customers: pd.DataFrame,
                                              truth: dict[str, Any]) -> None:
    effect = _effect(truth, "webinar_drives_enterprise_conversion")
    ent = set(customers.loc[customers["segment"] == "Enterprise", "customer_id"])
    e = events[events["customer_id"].isin(ent)]
    first = e.groupby("customer_id")["timestamp"].min()
    cutoff = pd.Timestamp(effect["measure"]["params"]["cutoff"], unit="s", tz="UTC")
    cohort = set(first[first <= cutoff].index)
    webinar = set(e.loc[e["event"] == "webinar_attended", "customer_id"]) & cohort
    signed = set(e.loc[e["event"] == "contract_signed", "customer_id"])
    with_w = len(webinar & signed) / len(webinar)
    without = len((cohort - webinar) & signed) / len(cohort - webinar)
    _check(effect, {"contract_rate_webinar": with_w, "contract_rate_no_webinar": without,
                    "lift": with_w / without})
    assert with_w > 2 * without


def test_enterprise_proposal_decay(events: pd.DataFrame, customers: pd.DataFrame, truth: dict[str, Any]) -> None:
    effect = _effect(truth, "enterprise_proposal_decay")
    ent = set(customers.loc[customers["segment"] == "Enterprise", "customer_id"])
    e = events[events["customer_id"].isin(ent)]
    demo, proposal, contract = _first(e, "demo_held"), _first(e, "proposal_sent"), _first(e, "contract_signed")
    cutoff = pd.Timestamp(effect["measure"]["params"]["cutoff"], unit="s", tz="UTC")
    p = proposal[proposal <= cutoff]
    d = demo[demo <= cutoff]
    lag = ((contract.reindex(p.index) - p).dropna().dt.total_seconds() / 86400)
    lag_demo = ((proposal.reindex(d.index) - d).dropna().dt.total_seconds() / 86400)
    measured = {
        "median_days_proposal_to_contract": float(lag.median()),
        "median_days_demo_to_proposal": float(lag_demo.median()),
        "proposal_to_contract_rate": float(contract.reindex(p.index).notna().mean()),
        "demo_to_proposal_rate": float(proposal.reindex(d.index).notna().mean()),
    }
    _check(effect, measured)
    assert measured["median_days_proposal_to_contract"] > 3 * measured["median_days_demo_to_proposal"]
    assert measured["proposal_to_contract_rate"] < measured["demo_to_proposal_rate"]


def test_slow_support_lowers_nps(events: pd.DataFrame, feedback: pd.DataFrame, truth: dict[str, Any]) -> None:
    effect = _effect(truth, "slow_support_lowers_nps")
    slow_hours = effect["parameters"]["slow_hours"]
    t = events[events["event"].isin(["support_ticket_opened", "support_ticket_resolved"])].copy()
    t["ticket"] = t["properties"].map(lambda p: json.loads(p)["ticket_id"])
    opened = t[t["event"] == "support_ticket_opened"].set_index("ticket")[["customer_id", "timestamp"]]
    resolved = t[t["event"] == "support_ticket_resolved"].set_index("ticket")["timestamp"]
    opened["hours"] = (resolved.reindex(opened.index) - opened["timestamp"]).dt.total_seconds() / 3600
    nps = feedback[feedback["metric"] == "nps"].reset_index(drop=True)
    joined = nps.merge(opened, on="customer_id", how="left", suffixes=("", "_ticket"))
    before = joined[joined["timestamp_ticket"] < joined["timestamp"]]
    slow = set(before.loc[before["hours"] > slow_hours, "customer_id"])
    fast = set(before["customer_id"]) - slow
    group = np.where(nps["customer_id"].isin(slow), "slow", np.where(nps["customer_id"].isin(fast), "fast", "none"))
    measured: dict[str, float] = {}
    for g in ("slow", "fast", "none"):
        s = nps.loc[group == g, "score"]
        measured[f"nps_{g}"] = 100.0 * ((s >= 9).mean() - (s <= 6).mean())
        measured[f"mean_score_{g}"] = float(s.mean())
    for key, value in measured.items():  # NPS is rounded to 2 decimals in the file
        assert value == pytest.approx(effect["observed"][key], abs=0.01), key
        assert abs(value - effect["expected"][key]) <= effect["tolerance"][key], key
    assert measured["nps_slow"] < measured["nps_fast"] - 30


def test_chat_support_negative(feedback: pd.DataFrame, demo: DemoFiles, truth: dict[str, Any]) -> None:
    effect = _effect(truth, "chat_support_negative")
    csat = feedback[feedback["metric"] == "csat"].groupby("touchpoint")["score"].mean()
    measured = {f"csat_mean_{k}": float(csat[k]) for k in ("support_chat", "support_call", "support_ticket")}
    _check(effect, measured)
    assert measured["csat_mean_support_chat"] < measured["csat_mean_support_call"] - 1.0
    rows = pd.read_json(demo.transcripts, lines=True)
    closing = rows[rows["speaker"] == "customer"].groupby("conversation_id").last()
    unhappy = closing["text"].str.contains("frustrating|no solution|waiting|Disappointed", regex=True)
    share = unhappy.groupby(closing["touchpoint"]).mean()
    assert share["support_chat"] > share["support_call"] + 0.3


def _maps(demo: DemoFiles) -> list[JourneyMap]:
    try:
        from journeymap.model import load_map
    except ImportError:  # the line-aware loader is optional here
        return [JourneyMap.model_validate(YAML(typ="safe").load(p.read_text())) for p in demo.maps]
    return [load_map(p) for p in demo.maps]


def test_maps_validate_and_fill_every_lane(demo: DemoFiles) -> None:
    maps = {m.id: m for m in _maps(demo)}
    assert maps["sme-onboarding-churn"].type.value == "churn"
    assert maps["sme-onboarding-churn"].persona.segment == "segment == 'SME'"
    goal = maps["sme-onboarding-churn"].goal.kpi
    assert goal is not None and goal.metric == "churn_rate" and goal.direction == "decrease" and goal.deadline
    assert maps["enterprise-acquisition"].goal.event == "contract_signed"
    assert maps["day-in-the-life"].stage_kind.value == "time_of_day"
    assert maps["day-in-the-life"].stage_ids() == ["morning", "afternoon", "evening"]
    kinds: set[str] = set()
    for m in maps.values():
        for stage in m.stages:
            lanes = stage.lanes
            for lane in ("actions", "goals", "thoughts", "pain_points", "opportunities", "owners", "kpis",
                         "backstage"):
                assert getattr(lanes, lane), f"{m.id}/{stage.id}: empty {lane}"
            assert lanes.emotion is not None
            assert lanes.emotion.from_data or (lanes.emotion.evidence is not None)
            assert all(k.target is not None for k in lanes.kpis)
            for tp in stage.touchpoints:
                assert tp.channel and tp.owner and tp.match is not None
                kinds |= {k for k in ("event", "event_in", "event_regex", "channel", "where")
                          if getattr(tp.match, k) is not None}
    assert kinds == {"event", "event_in", "event_regex", "channel", "where"}


def _matches(tp: Touchpoint, rows: pd.DataFrame) -> pd.Series:
    m = tp.match
    assert m is not None
    ok = pd.Series(True, index=rows.index)
    if m.event is not None:
        ok &= rows["event"] == m.event
    if m.event_in is not None:
        ok &= rows["event"].isin(m.event_in)
    if m.event_regex is not None:
        ok &= rows["event"].map(lambda e: re.search(m.event_regex, e) is not None)
    if m.channel is not None:
        ok &= rows["channel"] == m.channel
    if m.where is not None and ok.any():
        from journeymap.model.rule_eval import evaluate

        idx = ok[ok].index[:300]
        sample = rows.loc[idx]
        held = [evaluate(m.where, {"event": r.event, "channel": r.channel, "properties": json.loads(r.properties)})
                for r in sample.itertuples()]
        ok = pd.Series(False, index=rows.index)
        ok.loc[idx] = held
    return ok


def test_maps_cover_the_events(demo: DemoFiles, events: pd.DataFrame) -> None:
    touchpoints = [(m.id, tp) for m in _maps(demo) for tp in m.touchpoints]
    # a sample of every event name, so rules with `where` are evaluated on a few hundred rows
    sample = events.groupby("event", group_keys=False).head(300)
    covered = pd.Series(False, index=sample.index)
    for map_id, tp in touchpoints:
        hit = _matches(tp, sample)
        assert hit.any(), f"{map_id}: touchpoint {tp.id} matches no generated event"
        covered |= hit
    missing = set(sample.loc[~covered, "event"]) - set(sample.loc[covered, "event"])
    assert not missing, f"event names no touchpoint matches: {sorted(missing)}"
    feedback_tps = set(pd.read_csv(demo.feedback)["touchpoint"].dropna())
    assert feedback_tps <= {tp.id for _, tp in touchpoints}


def test_ground_truth_sql_runs_on_an_ingested_store(demo: DemoFiles, truth: dict[str, Any]) -> None:
    ingest_mod = pytest.importorskip("journeymap.data.ingest")
    from journeymap.data.store import Store

    with Store.memory() as store:
        for kind, path in (("events", demo.events), ("customers", demo.customers), ("feedback", demo.feedback),
                           ("transactions", demo.transactions), ("transcripts", demo.transcripts)):
            report = ingest_mod.ingest(store, kind, [path])
            assert report.quarantined == 0, (kind, report.examples)
        nps = _effect(truth, "slow_support_lowers_nps")
        rows = store.con.execute(nps["measure"]["sql"], nps["measure"]["params"]).fetchall()
        got = {r[0]: round(r[4], 2) for r in rows}
        assert got == {g: nps["observed"][f"nps_{g}"] for g in ("fast", "none", "slow")}
        webinar = _effect(truth, "webinar_drives_enterprise_conversion")
        rows = store.con.execute(webinar["measure"]["sql"], webinar["measure"]["params"]).fetchall()
        got = {bool(r[0]): round(r[2], 4) for r in rows}
        assert got == {True: webinar["observed"]["contract_rate_webinar"],
                       False: webinar["observed"]["contract_rate_no_webinar"]}
