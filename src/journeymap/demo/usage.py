"""Daily product usage during adoption, in morning, afternoon and evening sessions.

The day-in-the-life map reads these: mornings start with a login or the dashboard,
afternoons are for building, exporting and sharing reports, evenings are a quick look
on the mobile app.  Every usage event carries the customer's local hour.
"""

from __future__ import annotations

import numpy as np

from journeymap.demo.catalog import DAY, ENTERPRISE, PLANS
from journeymap.demo.core import EventLog, choice, expand, json_props
from journeymap.demo.funnel import People
from journeymap.demo.postsale import COMPLETED, Subscription

SLOTS = ("morning", "afternoon", "evening")
SLOT_WEIGHTS = np.array([[0.47, 0.41, 0.12], [0.42, 0.38, 0.20]])  # by segment
SESSIONS_PER_DAY = (0.3, 0.11)  # by segment, before engagement
STALLED_FACTOR = 0.35
EXTRA_EVENTS = (1.4, 2.0, 0.7)  # mean extra events per session, by slot
USAGE = ("dashboard_viewed", "report_created", "report_exported", "report_shared",
         "integration_connected", "alert_configured")
USAGE_WEIGHTS = np.array([
    [0.52, 0.14, 0.10, 0.08, 0.04, 0.12],
    [0.16, 0.30, 0.28, 0.20, 0.03, 0.03],
    [0.62, 0.05, 0.05, 0.25, 0.0, 0.03],
])
DEVICES = ("desktop", "mobile")
EXPORT_FORMATS = ("pdf", "xlsx", "csv", "pptx")
INTEGRATIONS = ("salesforce", "hubspot", "netsuite", "quickbooks", "google_sheets", "slack")


def usage(rng: np.random.Generator, p: People, sub: Subscription, log: EventLog) -> None:
    clock = p.clock
    c = np.flatnonzero(sub.customer)
    begin = sub.onboarded_ts[c] + DAY
    stop = sub.stop_ts[c]
    days = np.maximum(stop - begin, 0) / DAY
    rate = np.array(SESSIONS_PER_DAY)[p.seg[c]] * p.engagement[c]
    rate = np.where(sub.outcome[c] == COMPLETED, rate, rate * STALLED_FACTOR)
    owner, _ = expand(rng.poisson(rate * days))
    cust = c[owner]
    day = clock.local_day(cust, begin[owner]) + rng.random(len(owner)) * days[owner]
    slot = choice(rng, SLOT_WEIGHTS, (p.seg[cust] != ENTERPRISE).astype(np.int64), len(cust))
    ts = np.zeros(len(cust), dtype=np.int64)
    for k, name in enumerate(SLOTS):
        m = slot == k
        ts[m] = clock.at(cust[m], day[m], name)
    keep = (ts > begin[owner] - DAY) & (ts < stop[owner])
    cust, ts, slot = cust[keep], ts[keep], slot[keep]

    # the first event of a session, then a few more minutes apart
    first = np.where(slot == 2, 2, np.where(rng.random(len(cust)) < 0.35, 0, 1))
    extra = rng.poisson(np.array(EXTRA_EVENTS)[slot])
    s, nth = expand(extra)
    gaps = rng.exponential(240.0, len(s)) + 20
    offset = np.cumsum(gaps)
    starts = np.cumsum(extra) - extra
    offset = offset - np.repeat(np.where(starts > 0, offset[np.maximum(starts - 1, 0)], 0.0), extra)
    kind = choice(rng, USAGE_WEIGHTS, slot[s], len(s))

    all_cust = np.concatenate([cust, cust[s]])
    all_ts = np.concatenate([ts, ts[s] + offset.astype(np.int64)])
    all_slot = np.concatenate([slot, slot[s]])
    # first events are login(0) / dashboard(1) / mobile(2); extras are 10 + USAGE index
    all_kind = np.concatenate([np.where(first == 0, -1, np.where(first == 1, 0, -2)), kind])
    plan = np.where(all_ts >= sub.upgrade_ts[all_cust], sub.plan_final[all_cust], sub.plan_initial[all_cust])
    mobile = (all_slot == 2) | (rng.random(len(all_cust)) < 0.06)
    hour = clock.hour_of(all_cust, all_ts)
    names = {-1: "login", -2: "mobile_app_opened"} | dict(enumerate(USAGE))
    for k, name in names.items():
        m = np.flatnonzero(all_kind == k)
        base: dict[str, object] = {"plan": (PLANS, plan[m]), "device": (DEVICES, mobile[m].astype(np.int64)),
                                   "local_hour": hour[m]}
        if name == "report_exported":
            base["format"] = (EXPORT_FORMATS, choice(rng, np.array([0.4, 0.35, 0.15, 0.1]), None, len(m)))
        elif name == "integration_connected":
            base["integration"] = (INTEGRATIONS, rng.integers(0, len(INTEGRATIONS), len(m)))
        elif name == "report_shared":
            base["recipients"] = 1 + rng.poisson(2.0, len(m))
        log.add(name, all_cust[m], all_ts[m], json_props(**base))
