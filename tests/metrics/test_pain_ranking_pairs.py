"""Pain-point ranking on two companies the demo knows nothing of, with random names.

Each company is generated here: four stages, the second with two alternative
touchpoints; customers who take alternative A drop out more often than those who take
B; CSAT answers at the third stage's touchpoint are worse than elsewhere; after B the
next step waits ten days (a cost, not a loss).  The companies differ only in the sizes
of the planted effects, so the ranking rules (losses first, each by customers x effect;
costs after losses) must put the drop-off first in one and the low CSAT first in the
other — whatever the touchpoints are called.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from journeymap.workspace import Workspace

START = np.datetime64("2026-01-01T00:00:00", "s")
HOUR, DAY = 3600, 86_400


@dataclass(frozen=True)
class Company:
    drop_a: float  # share of A's customers who never reach stage 3
    drop_b: float
    bad_csat_c: float  # share of unsatisfied CSAT answers at stage 3's touchpoint
    bad_csat_rest: float
    customers: int = 3000


def _name(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(string.ascii_lowercase) for _ in range(7))


def _build(root: Path, company: Company, seed: int) -> tuple[Workspace, dict[str, str]]:
    names = random.Random(seed)
    tp = {k: _name(names, "tp_") for k in ("entry", "a", "b", "c", "d")}
    ev = {k: _name(names, "ev_") for k in tp}
    stages = [_name(names, "st_") for _ in range(4)]
    rng = np.random.default_rng(seed)
    n = company.customers
    ids = np.array([f"{_name(names, 'c')}{i}" for i in range(n)])
    t0 = START + rng.integers(0, 150 * DAY, n)
    takes_a = rng.random(n) < 0.5
    drops = rng.random(n) < np.where(takes_a, company.drop_a, company.drop_b)
    gap = lambda: rng.exponential(HOUR, n).astype("int64") + 60  # noqa: E731 - one draw per step
    t1 = t0 + gap()
    t2 = t1 + np.where(takes_a, gap(), 10 * DAY + gap())  # after B the next step waits ten days
    t3 = t2 + gap()
    rows = [(ids, t0, ev["entry"]), (ids, t1, np.where(takes_a, ev["a"], ev["b"]))]
    rows += [(ids[~drops], t2[~drops], ev["c"]), (ids[~drops], t3[~drops], ev["d"])]
    lines = ["customer_id,timestamp,event,channel"]
    for who, when, what in rows:
        what = np.broadcast_to(what, who.shape)
        lines += [f"{c},{t}Z,{e},web" for c, t, e in zip(who, when.astype(str), what, strict=True)]
    (root / "events.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    answers = ["customer_id,timestamp,metric,score,touchpoint"]
    for key, when, who, bad_share, rate in (
            ("entry", t0, np.ones(n, bool), company.bad_csat_rest, 0.5),
            ("c", t2, ~drops, company.bad_csat_c, 0.8),
            ("d", t3, ~drops, company.bad_csat_rest, 0.5)):
        answered = who & (rng.random(n) < rate)
        bad = rng.random(n) < bad_share
        score = np.where(bad, rng.integers(1, 4, n), 5)
        answers += [f"{c},{t}Z,csat,{s},{tp[key]}" for c, t, s in
                    zip(ids[answered], (when[answered] + 300).astype(str), score[answered], strict=True)]
    (root / "feedback.csv").write_text("\n".join(answers) + "\n", encoding="utf-8")

    def stage(i: int, keys: tuple[str, ...]) -> str:
        tps = "\n".join(f"      - {{id: {tp[k]}, name: {tp[k].title()}, channel: web, match: {ev[k]}}}"
                        for k in keys)
        return f"  - id: {stages[i]}\n    name: {stages[i].title()}\n    touchpoints:\n{tps}\n"

    ws = Workspace.create(root / "ws")
    (ws.maps_dir / "journey.yaml").write_text(
        f"id: journey\ntitle: A company\ngoal: {{statement: Customers reach the end, event: {ev['d']}}}\n"
        "persona: {name: Everyone}\nscenario: From first contact to the end.\nstages:\n"
        + stage(0, ("entry",)) + stage(1, ("a", "b")) + stage(2, ("c",)) + stage(3, ("d",)),
        encoding="utf-8")
    ws.ingest("events", [root / "events.csv"])
    ws.ingest("feedback", [root / "feedback.csv"])
    return ws, tp


@pytest.mark.parametrize(("company", "seed", "first", "second"), [
    # drop-off: 1,500 customers x 0.50 = 750 > low CSAT: ~1,950 x 0.30 = ~585
    (Company(drop_a=0.60, drop_b=0.10, bad_csat_c=0.50, bad_csat_rest=0.20), 101,
     ("a", "drop_off"), ("c", "low_csat")),
    # drop-off: 1,500 x 0.15 = 225 < low CSAT: ~2,325 x 0.45 = ~1,046
    (Company(drop_a=0.30, drop_b=0.15, bad_csat_c=0.60, bad_csat_rest=0.15), 202,
     ("c", "low_csat"), ("a", "drop_off")),
], ids=["drop-off-first", "csat-first"])
def test_pain_points_rank_losses_by_impact_then_costs(tmp_path: Path, company: Company, seed: int,
                                                      first: tuple[str, str], second: tuple[str, str]) -> None:
    ws, tp = _build(tmp_path, company, seed=seed)
    with ws:
        pains = ws.analyze("journey", sections=["pain_points"])["pain_points"]
    ranked = [(p["target"], p["kind"]) for p in pains]
    expected = [(tp[k], kind) for k, kind in (first, second)]
    assert ranked[:2] == expected, ranked
    # the ten-day wait after B is the largest effect of all, but a cost: after every loss
    slow = ranked.index((tp["b"], "slow_next_step"))
    losses = [i for i, (_, kind) in enumerate(ranked) if kind not in ("slow_next_step", "repeated_step")]
    assert slow > max(losses)
    # the evidence is the planted effect: impact = customers affected x effect size
    planted = {"drop_off": (company.drop_a, company.drop_b), "low_csat": (company.bad_csat_c, company.bad_csat_rest)}
    for p in pains[:2]:
        value, baseline = planted[p["kind"]]
        assert p["evidence"]["value"] == pytest.approx(value, abs=0.05)
        assert p["evidence"]["baseline"] == pytest.approx(baseline, abs=0.05)
        assert p["score"] == pytest.approx(p["customers_affected"] * p["effect_size"], abs=1)
