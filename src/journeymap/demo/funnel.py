"""The demo's accounts and their pre-sale journey: awareness, consideration, decision.

Enterprise accounts buy through sales (demo, proposal, contract); SMEs buy self-serve
(trial, checkout).  Planted here: webinar attendance lifts Enterprise contract rates,
and the proposal step is the slow one (the decay point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journeymap.demo.catalog import (
    AWARENESS_EVENTS,
    AWARENESS_WEIGHTS,
    CHANNEL_CODE,
    COUNTRIES,
    CURRENCIES,
    END_S,
    ENTERPRISE,
    INDUSTRIES,
    PARAMS,
    ROLE_WEIGHTS,
    SEGMENT_SHARE_ENTERPRISE,
    SME,
    START_S,
    DAY,
)
from journeymap.demo.core import NEVER, Clock, EventLog, choice, expand, json_props, lognormal_days

WINDOW_DAYS = (END_S - START_S) / DAY
FIRST_TOUCH_SKEW = 1.4
AD_NETWORKS = ("google", "linkedin", "bing", "meta")  # >1 puts more first touches early, so cohorts can mature


@dataclass
class People:
    """One row per account (prospect or customer)."""

    n: int
    seg: np.ndarray
    country: np.ndarray
    currency: np.ndarray
    industry: np.ndarray
    size: np.ndarray
    role: np.ndarray
    acquisition: np.ndarray
    first_day: np.ndarray
    engagement: np.ndarray
    clock: Clock


@dataclass
class Presale:
    """Milestones of the pre-sale journey (``NEVER`` where it did not happen)."""

    first_ts: np.ndarray
    webinar_ts: np.ndarray
    demo_held_ts: np.ndarray
    proposal_ts: np.ndarray
    conv_ts: np.ndarray

    @property
    def converted(self) -> np.ndarray:
        return self.conv_ts <= END_S


def make_people(rng: np.random.Generator, n: int) -> People:
    seg = np.where(rng.random(n) < SEGMENT_SHARE_ENTERPRISE, ENTERPRISE, SME).astype(np.int8)
    weights = np.array([[c[3] for c in COUNTRIES], [c[4] for c in COUNTRIES]])
    country = choice(rng, weights, seg, n)
    tz = np.array([c[1] for c in COUNTRIES])[country]
    currency = np.array([CURRENCIES.index(c[2]) for c in COUNTRIES])[country]
    industry = rng.integers(0, len(INDUSTRIES), n)
    ent_size = np.round(np.exp(rng.normal(np.log(1800), 0.9, n))).clip(250, 60_000)
    sme_size = np.round(np.exp(rng.normal(np.log(35), 0.8, n))).clip(3, 249)
    size = np.where(seg == ENTERPRISE, ent_size, sme_size).astype(np.int64)
    role = choice(rng, np.array([ROLE_WEIGHTS[ENTERPRISE], ROLE_WEIGHTS[SME]]), seg, n)
    acquisition = choice(rng, np.array([AWARENESS_WEIGHTS[ENTERPRISE], AWARENESS_WEIGHTS[SME]]), seg, n)
    first_day = 1.0 + (WINDOW_DAYS - 4) * rng.random(n) ** FIRST_TOUCH_SKEW
    engagement = np.exp(rng.normal(0.0, 0.45, n))
    return People(n, seg, country, currency, industry, size, role, acquisition, first_day, engagement,
                  Clock(rng, tz))


def _latest(n: int, cust: np.ndarray, ts: np.ndarray, base: np.ndarray) -> np.ndarray:
    out = base.copy()
    np.maximum.at(out, cust, ts)
    return out


def presale(rng: np.random.Generator, p: People, log: EventLog) -> Presale:
    fp = PARAMS.funnel
    clock, n, seg = p.clock, p.n, p.seg
    everyone = np.arange(n)
    ent = seg == ENTERPRISE

    # awareness: the first touch is the CRM's acquisition channel
    count = 1 + rng.poisson(1.3, n)
    cust, nth = expand(count)
    kind = choice(rng, np.array([AWARENESS_WEIGHTS[ENTERPRISE], AWARENESS_WEIGHTS[SME]]), seg[cust], len(cust))
    kind = np.where(nth == 0, p.acquisition[cust], kind)
    day = p.first_day[cust] + np.where(nth == 0, 0.0, rng.exponential(6.0, len(cust)))
    first_ts = np.full(n, NEVER)
    last_ts = np.zeros(n, dtype=np.int64)
    for k, name in enumerate(AWARENESS_EVENTS):
        m = kind == k
        moment = "work" if name in ("trade_show_visit", "partner_referral") else "any"
        ts = clock.at(cust[m], day[m], moment)
        if name == "ad_click":  # social networks' ads are the social channel
            network = choice(rng, np.array([[0.3, 0.5, 0.1, 0.1], [0.45, 0.25, 0.1, 0.2]]),
                             (seg[cust[m]] == SME).astype(np.int64), int(m.sum()))
            log.add(name, cust[m], ts, json_props(network=(AD_NETWORKS, network)),
                    channel=np.where(network % 2 == 1, CHANNEL_CODE["social"], CHANNEL_CODE["web"]))
        else:
            log.add(name, cust[m], ts)
        np.minimum.at(first_ts, cust[m], ts)
        np.maximum.at(last_ts, cust[m], ts)

    # consideration
    considers = rng.random(n) < np.array(fp.consider)[seg]
    c = everyone[considers]
    t_c = clock.after(c, last_ts[c], rng.exponential(5.0, len(c)) + 0.5, "any")
    pv, _ = expand(1 + rng.poisson(1.2, len(c)))
    ts = clock.after(c[pv], t_c[pv], rng.exponential(4.0, len(pv)), "any")
    log.add("pricing_page_view", c[pv], ts,
            json_props(page=(("/pricing", "/pricing/enterprise", "/pricing/compare"), rng.integers(0, 3, len(pv)))))
    last_c = _latest(n, c[pv], ts, last_ts)
    t_cfull = np.full(n, NEVER)
    t_cfull[c] = t_c
    cs = c[rng.random(len(c)) < np.array(fp.case_study)[seg[c]]]
    ts = clock.after(cs, t_cfull[cs], rng.exponential(6.0, len(cs)), "work")
    log.add("case_study_download", cs, ts,
            json_props(industry=(INDUSTRIES, p.industry[cs])))
    last_c = _latest(n, cs, ts, last_c)

    attends = np.zeros(n, dtype=bool)
    attends[c] = rng.random(len(c)) < np.array(fp.webinar_attend)[seg[c]]
    registers = attends | (np.isin(everyone, c) & (rng.random(n) < fp.webinar_no_show))
    r = everyone[registers]
    reg_ts = clock.after(r, t_cfull[r], rng.exponential(4.0, len(r)), "any")
    topics = ("Automating month-end reporting", "Dashboards your board will read", "Connecting your ERP in a day")
    topic = rng.integers(0, 3, len(r))
    log.add("webinar_registered", r, reg_ts, json_props(webinar=(topics, topic)))
    a = registers[r] & attends[r]
    webinar_ts = np.full(n, NEVER)
    webinar_ts[r[a]] = clock.after(r[a], reg_ts[a], 3.0 + rng.integers(0, 8, a.sum()), "work")
    log.add("webinar_attended", r[a], webinar_ts[r[a]],
            json_props(webinar=(topics, topic[a]), minutes=rng.integers(12, 61, a.sum())))
    last_c = np.where(webinar_ts != NEVER, np.maximum(last_c, webinar_ts), last_c)

    p_demo = np.where(attends, np.array(fp.demo_request_webinar)[seg], np.array(fp.demo_request)[seg])
    requests = np.isin(everyone, c) & (rng.random(n) < p_demo)
    d = everyone[requests]
    req_ts = clock.after(d, last_c[d], rng.exponential(3.0, len(d)), "work")
    log.add("demo_requested", d, req_ts)
    held = rng.random(len(d)) < fp.demo_held
    demo_held_ts = np.full(n, NEVER)
    demo_held_ts[d[held]] = clock.after(d[held], req_ts[held], lognormal_days(rng, 5.0, 0.5, held.sum()), "work")
    log.add("demo_held", d[held], demo_held_ts[d[held]],
            json_props(duration_min=rng.integers(25, 75, held.sum())))
    last_c = np.where(demo_held_ts != NEVER, np.maximum(last_c, demo_held_ts), last_c)

    # decision, Enterprise: proposal then contract (slow, and webinar lifts it)
    conv_ts = np.full(n, NEVER)
    proposal_ts = np.full(n, NEVER)
    e = everyone[ent & (demo_held_ts != NEVER)]
    e = e[rng.random(len(e)) < fp.proposal]
    proposal_ts[e] = clock.after(e, demo_held_ts[e], lognormal_days(rng, fp.demo_to_proposal_median_days, 0.5, len(e)), "work")
    log.add("proposal_sent", e, proposal_ts[e])
    signs = rng.random(len(e)) < np.where(attends[e], fp.contract_webinar, fp.contract)
    s = e[signs]
    conv_ts[s] = clock.after(s, proposal_ts[s], lognormal_days(
        rng, fp.proposal_to_contract_median_days, fp.proposal_to_contract_sigma, len(s)), "work")

    # decision, SME: trial then checkout
    t = everyone[(seg == SME) & np.isin(everyone, c)]
    t = t[rng.random(len(t)) < fp.trial]
    trial_ts = clock.after(t, last_c[t], rng.exponential(3.0, len(t)), "any")
    log.add("trial_started", t, trial_ts, json_props(trial_days=np.full(len(t), 14)))
    buys = rng.random(len(t)) < fp.checkout
    b = t[buys]
    conv_ts[b] = clock.after(b, trial_ts[buys], lognormal_days(rng, fp.trial_to_checkout_median_days, 0.6, len(b)), "any")
    return Presale(first_ts, webinar_ts, demo_held_ts, proposal_ts, conv_ts)
