"""``ground_truth.json``: the planted effects, what they should show, what they do show.

Each effect carries its parameters, the values expected from those parameters, a
tolerance (four standard errors of this sample's group sizes plus an allowance for
data that ends mid-journey), the values observed in the generated files, and the SQL
that measures them.  The SQL runs on DuckDB over tables named ``events``,
``customers`` and ``feedback`` with the contract's columns (typed timestamps), so it
runs unchanged against a journeymap store.
"""

from __future__ import annotations

import math
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeymap.demo.catalog import COMPANY, DAY, END, END_S, EVENT_NAMES, PARAMS, START, ENTERPRISE, SME

COHORT_DAYS = 180
PROPOSAL_COHORT_DAYS = 120

SQL_IMPORT = """
WITH imp AS (
  SELECT e.customer_id, c.segment,
         bool_or(e.event = 'data_import_started') AS started,
         bool_or(e.event = 'data_import_completed') AS completed
  FROM events e JOIN customers c USING (customer_id)
  WHERE e.event IN ('data_import_started', 'data_import_completed')
  GROUP BY e.customer_id, c.segment
), outcome AS (
  SELECT customer_id,
         max(CASE WHEN event = 'subscription_cancelled' THEN 1 WHEN event = 'subscription_renewed' THEN 0 END) AS churned
  FROM events WHERE event IN ('subscription_cancelled', 'subscription_renewed') GROUP BY customer_id
), tickets AS (
  SELECT DISTINCT customer_id FROM events
  WHERE event = 'support_ticket_opened' AND json_extract_string(properties, '$.topic') = 'data_import'
), scores AS (
  SELECT customer_id, avg(score) FILTER (WHERE metric = 'csat') AS csat, avg(score) FILTER (WHERE metric = 'ces') AS ces
  FROM feedback WHERE touchpoint = 'data_import' GROUP BY customer_id
), g AS (
  SELECT imp.*, CASE WHEN completed THEN 'completed' ELSE 'stalled' END AS grp, o.churned,
         t.customer_id IS NOT NULL AS import_ticket, s.csat, s.ces
  FROM imp LEFT JOIN outcome o USING (customer_id) LEFT JOIN tickets t USING (customer_id)
  LEFT JOIN scores s USING (customer_id)
  WHERE started
)
SELECT segment, grp, count(*) AS accounts, avg(import_ticket::INT) AS import_ticket_rate,
       count(churned) AS reached_renewal, avg(churned) AS churn_rate,
       avg(csat) AS csat_mean, count(csat) AS csat_n, avg(ces) AS ces_mean
FROM g GROUP BY segment, grp ORDER BY segment, grp
"""

SQL_WEBINAR = """
WITH per AS (
  SELECT e.customer_id, min(e.timestamp) AS first_seen,
         bool_or(e.event = 'webinar_attended') AS webinar, bool_or(e.event = 'contract_signed') AS signed
  FROM events e JOIN customers c USING (customer_id)
  WHERE c.segment = 'Enterprise' GROUP BY e.customer_id
)
SELECT webinar, count(*) AS accounts, avg(signed::INT) AS contract_rate
FROM per WHERE epoch(first_seen) <= $cutoff GROUP BY webinar ORDER BY webinar
"""

SQL_PROPOSAL = """
WITH per AS (
  SELECT e.customer_id,
         min(e.timestamp) FILTER (WHERE e.event = 'demo_held') AS demo,
         min(e.timestamp) FILTER (WHERE e.event = 'proposal_sent') AS proposal,
         min(e.timestamp) FILTER (WHERE e.event = 'contract_signed') AS contract
  FROM events e JOIN customers c USING (customer_id)
  WHERE c.segment = 'Enterprise' GROUP BY e.customer_id
)
SELECT
  median((epoch(contract) - epoch(proposal)) / 86400) FILTER (WHERE epoch(proposal) <= $cutoff) AS median_days_proposal_to_contract,
  median((epoch(proposal) - epoch(demo)) / 86400) FILTER (WHERE epoch(demo) <= $cutoff) AS median_days_demo_to_proposal,
  avg((contract IS NOT NULL)::INT) FILTER (WHERE epoch(proposal) <= $cutoff) AS proposal_to_contract_rate,
  avg((proposal IS NOT NULL)::INT) FILTER (WHERE epoch(demo) <= $cutoff) AS demo_to_proposal_rate,
  count(contract) FILTER (WHERE epoch(proposal) <= $cutoff) AS contracts,
  count(proposal) FILTER (WHERE epoch(proposal) <= $cutoff) AS proposals,
  count(demo) FILTER (WHERE epoch(demo) <= $cutoff) AS demos
FROM per
"""

SQL_NPS = """
WITH nps AS (SELECT customer_id, timestamp, score FROM feedback WHERE metric = 'nps'),
opened AS (
  SELECT customer_id, timestamp AS opened, json_extract_string(properties, '$.ticket_id') AS ticket_id
  FROM events WHERE event = 'support_ticket_opened'
), resolved AS (
  SELECT json_extract_string(properties, '$.ticket_id') AS ticket_id, timestamp AS resolved
  FROM events WHERE event = 'support_ticket_resolved'
), t AS (
  SELECT o.customer_id, o.opened, (epoch(r.resolved) - epoch(o.opened)) / 3600 AS hours
  FROM opened o LEFT JOIN resolved r USING (ticket_id)
), g AS (
  SELECT n.customer_id, n.score,
         CASE WHEN coalesce(bool_or(t.hours > $slow_hours), false) THEN 'slow'
              WHEN count(t.opened) > 0 THEN 'fast' ELSE 'none' END AS grp
  FROM nps n LEFT JOIN t ON t.customer_id = n.customer_id AND t.opened < n.timestamp
  GROUP BY n.customer_id, n.timestamp, n.score
)
SELECT grp, count(*) AS answers, avg(score) AS mean_score, stddev_samp(score) AS sd,
       100.0 * (avg((score >= 9)::INT) - avg((score <= 6)::INT)) AS nps
FROM g GROUP BY grp ORDER BY grp
"""

SQL_SUPPORT_CSAT = """
SELECT touchpoint, count(*) AS answers, avg(score) AS csat_mean, stddev_samp(score) AS sd
FROM feedback WHERE metric = 'csat' AND touchpoint IN ('support_ticket', 'support_chat', 'support_call')
GROUP BY touchpoint ORDER BY touchpoint
"""


def _mean(dist: tuple[float, ...], low: int) -> float:
    return sum((low + i) * p for i, p in enumerate(dist))


def _nps(dist: tuple[float, ...]) -> float:
    return 100.0 * (sum(dist[9:]) - sum(dist[:7]))


def _sd(dist: tuple[float, ...], low: int) -> float:
    m = _mean(dist, low)
    return math.sqrt(sum(p * (low + i - m) ** 2 for i, p in enumerate(dist)))


def _rate_tol(p: float, n: int, allowance: float = 0.02) -> float:
    return round(4 * math.sqrt(max(p * (1 - p), 0.01) / max(n, 1)) + allowance, 4)


def _ratio_tol(p1: float, n1: int, p2: float, n2: int) -> float:
    """Four standard errors of p1 / p2 (delta method) plus 0.1."""
    rel = math.sqrt((1 - p1) / (p1 * max(n1, 1)) + (1 - p2) / (p2 * max(n2, 1)))
    return round(4 * (p1 / p2) * rel + 0.1, 4)


def _r(x: Any, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _typed(table: pa.Table) -> pa.Table:
    ts = pc.strptime(table.column("timestamp"), format="%Y-%m-%dT%H:%M:%SZ", unit="us")
    return table.set_column(table.column_names.index("timestamp"), "timestamp", pc.assume_timezone(ts, "UTC"))


def _expected_churn_enterprise() -> float:
    """Churn of Enterprise customers who started the import (the measure's population)."""
    op = PARAMS.onboarding
    done = op.import_complete[ENTERPRISE]
    return done * op.churn_enterprise_completed + (1 - done) * op.churn_enterprise_stalled


def _stall(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    op = PARAMS.onboarding
    rows = {(r["segment"], r["grp"]): r for r in _rows(con, SQL_IMPORT)}
    empty = {"accounts": 0, "import_ticket_rate": None, "reached_renewal": 0, "churn_rate": None,
             "csat_mean": None, "csat_n": 0, "ces_mean": None}
    s_st, s_co = rows.get(("SME", "stalled"), empty), rows.get(("SME", "completed"), empty)
    e_st, e_co = rows.get(("Enterprise", "stalled"), empty), rows.get(("Enterprise", "completed"), empty)
    sme_started = s_st["accounts"] + s_co["accounts"]
    ent_started = e_st["accounts"] + e_co["accounts"]
    ent_reached = e_st["reached_renewal"] + e_co["reached_renewal"]
    ent_churn = None
    if ent_reached:
        ent_churn = ((e_st["churn_rate"] or 0) * e_st["reached_renewal"]
                     + (e_co["churn_rate"] or 0) * e_co["reached_renewal"]) / ent_reached
    expected = {
        "completion_rate_sme": op.import_complete[SME],
        "completion_rate_enterprise": op.import_complete[ENTERPRISE],
        "csat_mean_sme_stalled": _mean(op.csat_stalled, 1),
        "csat_mean_sme_completed": _mean(op.csat_completed, 1),
        "ces_mean_sme_stalled": _mean(op.ces_stalled, 1),
        "import_ticket_rate_sme_stalled": op.import_ticket_stalled,
        "import_ticket_rate_sme_completed": op.import_ticket_completed,
        "churn_rate_sme_stalled": op.churn_sme_stalled,
        "churn_rate_sme_completed": op.churn_sme_completed,
    }
    observed = {
        "completion_rate_sme": s_co["accounts"] / sme_started if sme_started else None,
        "completion_rate_enterprise": e_co["accounts"] / ent_started if ent_started else None,
        "csat_mean_sme_stalled": s_st["csat_mean"],
        "csat_mean_sme_completed": s_co["csat_mean"],
        "ces_mean_sme_stalled": s_st["ces_mean"],
        "import_ticket_rate_sme_stalled": s_st["import_ticket_rate"],
        "import_ticket_rate_sme_completed": s_co["import_ticket_rate"],
        "churn_rate_sme_stalled": s_st["churn_rate"],
        "churn_rate_sme_completed": s_co["churn_rate"],
        "churn_rate_enterprise": ent_churn,
    }
    csat_n = max(int(s_st["csat_n"]), 1)
    tolerance = {
        "completion_rate_sme": _rate_tol(op.import_complete[SME], sme_started),
        "completion_rate_enterprise": _rate_tol(op.import_complete[ENTERPRISE], ent_started),
        "csat_mean_sme_stalled": round(4 * _sd(op.csat_stalled, 1) / math.sqrt(csat_n) + 0.05, 4),
        "csat_mean_sme_completed": round(4 * _sd(op.csat_completed, 1) / math.sqrt(max(int(s_co["csat_n"]), 1)) + 0.05, 4),
        "ces_mean_sme_stalled": round(4 * _sd(op.ces_stalled, 1) / math.sqrt(max(csat_n * 0.5, 1)) + 0.05, 4),
        "import_ticket_rate_sme_stalled": _rate_tol(op.import_ticket_stalled, s_st["accounts"], 0.03),
        "import_ticket_rate_sme_completed": _rate_tol(op.import_ticket_completed, s_co["accounts"], 0.03),
        "churn_rate_sme_stalled": _rate_tol(op.churn_sme_stalled, s_st["reached_renewal"]),
        "churn_rate_sme_completed": _rate_tol(op.churn_sme_completed, s_co["reached_renewal"]),
    }
    expected["churn_rate_enterprise"] = _expected_churn_enterprise()
    tolerance["churn_rate_enterprise"] = _rate_tol(expected["churn_rate_enterprise"], ent_reached)
    return {
        "id": "sme_onboarding_stall", "kind": "stall", "segment": "SME", "stage": "onboarding",
        "touchpoint": "data_import", "events": ["data_import_started", "data_import_failed", "data_import_completed"],
        "description": ("Most SMEs start the data import but fewer than half complete it (CSV column mapping "
                        "fails). Those who stall rate onboarding CSAT low, complain about CSV import and column "
                        "mapping, open support tickets about data import, and churn far more at the first renewal."),
        "parameters": {k: getattr(op, k) for k in op.__dataclass_fields__},
        "expected": {k: _r(v) for k, v in expected.items()}, "tolerance": tolerance,
        "observed": {k: _r(v) for k, v in observed.items()},
        "counts": {"sme_started": sme_started, "sme_stalled": s_st["accounts"], "enterprise_started": ent_started,
                   "sme_stalled_reached_renewal": s_st["reached_renewal"],
                   "sme_completed_reached_renewal": s_co["reached_renewal"]},
        "measure": {"sql": SQL_IMPORT.strip(), "params": {}},
    }


def _webinar(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    fp = PARAMS.funnel
    cutoff = END_S - COHORT_DAYS * DAY
    rows = {bool(r["webinar"]): r for r in _rows(con, SQL_WEBINAR, {"cutoff": cutoff})}
    consider = fp.consider[ENTERPRISE]
    w = fp.webinar_attend[ENTERPRISE]
    with_w = fp.demo_request_webinar[ENTERPRISE] * fp.demo_held * fp.proposal * fp.contract_webinar
    without = (consider * (1 - w) * fp.demo_request[ENTERPRISE] * fp.demo_held * fp.proposal * fp.contract
               / (1 - consider * w))
    yes, no = rows.get(True, {"accounts": 0, "contract_rate": None}), rows.get(False, {"accounts": 0, "contract_rate": None})
    lift = yes["contract_rate"] / no["contract_rate"] if yes["contract_rate"] and no["contract_rate"] else None
    return {
        "id": "webinar_drives_enterprise_conversion", "kind": "conversion_driver", "segment": "Enterprise",
        "channel": "webinar", "stage": "consideration", "touchpoint": "webinar", "events": ["webinar_attended"],
        "goal_event": "contract_signed",
        "description": ("Enterprise prospects who attend a webinar request demos more often and sign contracts "
                         "at about three times the rate of those who do not."),
        "parameters": {k: getattr(fp, k) for k in ("webinar_attend", "demo_request", "demo_request_webinar",
                                                   "demo_held", "proposal", "contract", "contract_webinar")},
        "expected": {"contract_rate_webinar": _r(with_w), "contract_rate_no_webinar": _r(without),
                     "lift": _r(with_w / without)},
        "tolerance": {"contract_rate_webinar": _rate_tol(with_w, yes["accounts"]),
                      "contract_rate_no_webinar": _rate_tol(without, no["accounts"]),
                      "lift": _ratio_tol(with_w, yes["accounts"], without, no["accounts"])},
        "observed": {"contract_rate_webinar": _r(yes["contract_rate"]),
                     "contract_rate_no_webinar": _r(no["contract_rate"]), "lift": _r(lift)},
        "counts": {"enterprise_with_webinar": yes["accounts"], "enterprise_without_webinar": no["accounts"]},
        "measure": {"sql": SQL_WEBINAR.strip(), "params": {"cutoff": cutoff},
                    "note": f"Enterprise accounts first seen at least {COHORT_DAYS} days before the data ends"},
    }


def _proposal(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    fp = PARAMS.funnel
    cutoff = END_S - PROPOSAL_COHORT_DAYS * DAY
    r = _rows(con, SQL_PROPOSAL, {"cutoff": cutoff})[0]
    w, cons = fp.webinar_attend[ENTERPRISE], 1.0
    p_w = cons * w * fp.demo_request_webinar[ENTERPRISE] * fp.demo_held * fp.proposal
    p_n = cons * (1 - w) * fp.demo_request[ENTERPRISE] * fp.demo_held * fp.proposal
    step = (p_w * fp.contract_webinar + p_n * fp.contract) / (p_w + p_n)
    contracts = max(int(r["contracts"] or 0), 1)
    med_tol = 4 * 1.2533 * fp.proposal_to_contract_sigma * fp.proposal_to_contract_median_days / math.sqrt(contracts)
    return {
        "id": "enterprise_proposal_decay", "kind": "decay_point", "segment": "Enterprise", "stage": "decision",
        "touchpoint": "proposal", "events": ["proposal_sent", "contract_signed"],
        "description": ("The Enterprise deal stalls after the proposal: it takes about six weeks from "
                        "proposal_sent to contract_signed (about a week for every earlier step), and the "
                        "proposal is the step that loses the most deals."),
        "parameters": {k: getattr(fp, k) for k in ("demo_to_proposal_median_days", "proposal_to_contract_median_days",
                                                   "proposal_to_contract_sigma", "proposal", "contract",
                                                   "contract_webinar")},
        "expected": {"median_days_proposal_to_contract": fp.proposal_to_contract_median_days,
                     "median_days_demo_to_proposal": fp.demo_to_proposal_median_days,
                     "proposal_to_contract_rate": _r(step), "demo_to_proposal_rate": fp.proposal},
        "tolerance": {"median_days_proposal_to_contract": round(med_tol + 1.5, 4),
                      "median_days_demo_to_proposal": round(med_tol / 7 * 2 + 1.0, 4),
                      "proposal_to_contract_rate": _rate_tol(step, int(r["proposals"] or 0)),
                      "demo_to_proposal_rate": _rate_tol(fp.proposal, int(r["demos"] or 0))},
        "observed": {k: _r(r[k]) for k in ("median_days_proposal_to_contract", "median_days_demo_to_proposal",
                                           "proposal_to_contract_rate", "demo_to_proposal_rate")},
        "counts": {"proposals": r["proposals"], "contracts": r["contracts"], "demos": r["demos"]},
        "measure": {"sql": SQL_PROPOSAL.strip(), "params": {"cutoff": cutoff}},
    }


def _nps_effect(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    sp = PARAMS.support
    rows = {r["grp"]: r for r in _rows(con, SQL_NPS, {"slow_hours": sp.slow_hours})}
    dists = {"slow": sp.nps_slow, "fast": sp.nps_fast, "none": sp.nps_none}
    expected, observed, tolerance = {}, {}, {}
    for g, dist in dists.items():
        n = int(rows.get(g, {}).get("answers", 0))
        expected[f"nps_{g}"] = _r(_nps(dist), 2)
        expected[f"mean_score_{g}"] = _r(_mean(dist, 0))
        observed[f"nps_{g}"] = _r(rows[g]["nps"], 2) if g in rows else None
        observed[f"mean_score_{g}"] = _r(rows[g]["mean_score"]) if g in rows else None
        tolerance[f"nps_{g}"] = round(400 / math.sqrt(max(n, 1)) + 2, 2)
        tolerance[f"mean_score_{g}"] = round(4 * _sd(dist, 0) / math.sqrt(max(n, 1)) + 0.05, 4)
    return {
        "id": "slow_support_lowers_nps", "kind": "nps_driver", "segment": None, "stage": "adoption",
        "touchpoint": "support_ticket", "events": ["support_ticket_opened", "support_ticket_resolved"],
        "description": (f"Customers who had a support ticket take more than {sp.slow_hours:g} hours to resolve "
                        "before answering the NPS survey give a far lower NPS, and say support was slow."),
        "parameters": {"slow_hours": sp.slow_hours, "nps_after_days": sp.nps_after_days,
                       "resolution_median_hours": dict(zip(sp.media, sp.resolution_median_hours)),
                       "resolution_sigma": dict(zip(sp.media, sp.resolution_sigma)),
                       "nps_none": sp.nps_none, "nps_fast": sp.nps_fast, "nps_slow": sp.nps_slow},
        "expected": expected, "tolerance": tolerance, "observed": observed,
        "counts": {f"answers_{g}": int(rows.get(g, {}).get("answers", 0)) for g in dists},
        "measure": {"sql": SQL_NPS.strip(), "params": {"slow_hours": sp.slow_hours}},
    }


def _chat(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    sp = PARAMS.support
    rows = {r["touchpoint"]: r for r in _rows(con, SQL_SUPPORT_CSAT)}
    dists = {"support_chat": sp.csat_chat, "support_call": sp.csat_phone, "support_ticket": sp.csat_email}
    expected = {f"csat_mean_{k}": _r(_mean(d, 1)) for k, d in dists.items()}
    observed = {f"csat_mean_{k}": _r(rows[k]["csat_mean"]) if k in rows else None for k in dists}
    tolerance = {f"csat_mean_{k}": round(4 * _sd(d, 1) / math.sqrt(max(int(rows.get(k, {}).get("answers", 0)), 1))
                                          + 0.05, 4) for k, d in dists.items()}
    return {
        "id": "chat_support_negative", "kind": "channel_sentiment", "segment": None, "stage": "adoption",
        "channel": "support", "touchpoint": "support_chat", "events": ["chat_started"],
        "description": ("Support by chat is received badly: low CSAT and mostly negative transcripts (bot "
                        "loops, queues, disconnections), while phone support is rated highly."),
        "parameters": {"csat_chat": sp.csat_chat, "csat_phone": sp.csat_phone, "csat_email": sp.csat_email,
                       "chat_negative_transcript_share": sp.chat_negative_transcript,
                       "phone_negative_transcript_share": sp.phone_negative_transcript},
        "expected": expected, "tolerance": tolerance, "observed": observed,
        "counts": {f"answers_{k}": int(rows.get(k, {}).get("answers", 0)) for k in dists},
        "measure": {"sql": SQL_SUPPORT_CSAT.strip(), "params": {}},
    }


def ground_truth(seed: int, n: int, events: pa.Table, customers: pa.Table, feedback: pa.Table,
                 transactions: pa.Table, transcripts: pa.Table) -> dict[str, Any]:
    con = duckdb.connect()
    try:
        con.register("events", events)
        con.register("customers", customers)
        con.register("feedback", _typed(feedback))
        effects = [_stall(con), _webinar(con), _proposal(con), _nps_effect(con), _chat(con)]
    finally:
        con.close()
    status = customers.column("status").to_numpy(zero_copy_only=False)
    segment = customers.column("segment").to_numpy(zero_copy_only=False)
    counts = {
        "customers": n, "enterprise": int((segment == "Enterprise").sum()), "sme": int((segment == "SME").sum()),
        "prospects": int((status == "prospect").sum()), "active": int((status == "active").sum()),
        "cancelled": int((status == "cancelled").sum()), "events": events.num_rows,
        "events_per_customer": round(events.num_rows / max(n, 1), 2), "feedback": feedback.num_rows,
        "transactions": transactions.num_rows, "transcript_turns": transcripts.num_rows,
    }
    return {
        "generator": {"module": "journeymap.data.demo", "company": COMPANY, "seed": seed, "customers": n,
                      "data_start": START.isoformat(), "data_end": END.isoformat()},
        "counts": counts,
        "event_names": list(EVENT_NAMES),
        "effects": [_clean(e) for e in effects],
    }


def _clean(value: Any) -> Any:
    """Plain JSON types (numpy scalars and tuples become numbers and lists)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
