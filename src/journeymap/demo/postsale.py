"""After the sale: subscription, onboarding (with the planted SME import stall), renewal.

Churn is decided once, at the first renewal, from the segment and how onboarding went;
a churned customer gets ``subscription_cancelled`` and no events afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journeymap.demo.catalog import CHANNEL_CODE, DAY, END_S, ENTERPRISE, PARAMS, PLANS, SME
from journeymap.demo.core import NEVER, EventLog, choice, expand, json_props, lognormal_days
from journeymap.demo.funnel import People, Presale

# onboarding outcome per account
NOT_CUSTOMER, NEVER_STARTED, STALLED, COMPLETED = 0, 1, 2, 3
BILLING = ("monthly", "annual")
IMPORT_SOURCES = ("csv", "xlsx", "api", "salesforce")
IMPORT_ERRORS = ("column_mapping", "date_format", "encoding", "file_too_large", "duplicate_ids")
CANCEL_REASONS = ("data_import_difficulties", "price", "switched_competitor", "not_using", "budget_cuts")


@dataclass
class Subscription:
    """Per-account state after the sale (``NEVER`` where it does not apply)."""

    customer: np.ndarray  # bool: converted within the data
    plan_initial: np.ndarray
    plan_final: np.ndarray
    upgrade_ts: np.ndarray
    billing: np.ndarray
    outcome: np.ndarray  # NOT_CUSTOMER / NEVER_STARTED / STALLED / COMPLETED
    account_ts: np.ndarray
    import_started_ts: np.ndarray
    onboarded_ts: np.ndarray
    renewal_ts: np.ndarray
    cancel_ts: np.ndarray

    @property
    def stop_ts(self) -> np.ndarray:
        """When the account's activity ends: cancellation or the end of the data."""
        return np.minimum(self.cancel_ts, END_S)


def _group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = np.cumsum(values)
    starts = np.cumsum(counts) - counts
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0)
    return np.asarray(total - np.repeat(before, counts))


def subscribe(rng: np.random.Generator, p: People, pre: Presale, log: EventLog) -> Subscription:
    n, seg, clock = p.n, p.seg, p.clock
    op = PARAMS.onboarding
    converted = pre.converted
    c = np.flatnonzero(converted)
    conv = pre.conv_ts[c]
    ent = seg[c] == ENTERPRISE

    plan0 = np.full(n, -1)
    plan0[c] = np.where(ent, np.where(rng.random(len(c)) < 0.65, 2, 3), np.where(rng.random(len(c)) < 0.6, 0, 1))
    billing = np.full(n, -1)
    billing[c] = np.where(ent | (rng.random(len(c)) < 0.4), 1, 0)
    seats = np.where(ent, np.clip(p.size[c] // 40, 10, 400), np.clip(p.size[c] // 4, 2, 40))
    props = json_props(plan=(PLANS, plan0[c]), billing=(BILLING, billing[c]), seats=seats)
    for name, m in (("contract_signed", ent), ("checkout_completed", ~ent)):
        log.add(name, c[m], conv[m], props.filter(m))

    account = np.full(n, NEVER)
    account[c] = conv + rng.integers(20 * 60, 4 * 3600, len(c))
    log.add("account_created", c, account[c], json_props(plan=(PLANS, plan0[c])))
    w = c[rng.random(len(c)) < 0.8]
    log.add("welcome_email_opened", w, clock.after(w, account[w], rng.exponential(0.5, len(w)), "any"))
    call_p = np.where(ent, 0.9, 0.1)
    o = c[rng.random(len(c)) < call_p]
    log.add("onboarding_call_held", o, clock.after(o, account[o], lognormal_days(rng, 3.0, 0.5, len(o)), "work"),
            json_props(duration_min=rng.integers(30, 91, len(o))))

    # data import: the planted stall
    outcome = np.full(n, NOT_CUSTOMER)
    starts = rng.random(len(c)) < np.array(op.import_start)[seg[c]]
    completes = starts & (rng.random(len(c)) < np.array(op.import_complete)[seg[c]])
    outcome[c] = np.where(completes, COMPLETED, np.where(starts, STALLED, NEVER_STARTED))
    s = c[starts]
    started = np.full(n, NEVER)
    started[s] = clock.after(s, account[s], rng.exponential(1.5, len(s)) + 0.1, "work")
    src_w = np.array([[0.3, 0.2, 0.3, 0.2], [0.7, 0.2, 0.05, 0.05]])
    source = choice(rng, src_w, seg[s], len(s))
    rows = np.round(np.exp(rng.normal(np.where(seg[s] == ENTERPRISE, 11.0, 8.0), 1.0))).astype(np.int64)
    log.add("data_import_started", s, started[s], json_props(source=(IMPORT_SOURCES, source), rows=rows))
    done = c[completes]
    completed = clock.after(done, started[done], lognormal_days(rng, 0.8, 0.9, len(done)), "work")
    completed = np.maximum(completed, started[done] + 600)
    log.add("data_import_completed", done, completed,
            json_props(source=(IMPORT_SOURCES, source[completes[starts]]), rows=rows[completes[starts]]))
    # failures: every stalled account fails one or more times; some completers once
    stalled = c[outcome[c] == STALLED]
    k = 1 + rng.poisson(1.2, len(stalled))
    f, _ = expand(k)
    lag = _group_cumsum(rng.exponential(1.5, len(f)) + 0.02, k)
    fail_cust = stalled[f]
    fail_ts = clock.after(fail_cust, started[fail_cust], lag, "work")
    once = rng.random(len(done)) < 0.3
    fail_cust = np.concatenate([fail_cust, done[once]])
    span = completed[once] - started[done[once]]
    fail_ts = np.concatenate([fail_ts, started[done[once]] + (span * rng.uniform(0.1, 0.9, once.sum())).astype(np.int64)])
    err_w = np.array([0.5, 0.2, 0.12, 0.1, 0.08])
    log.add("data_import_failed", fail_cust, fail_ts,
            json_props(error=(IMPORT_ERRORS, choice(rng, err_w, None, len(fail_cust)))))

    onboarded = np.full(n, NEVER)
    onboarded[c] = account[c] + 14 * DAY
    onboarded[done] = completed
    good = outcome[c] == COMPLETED
    r = c[rng.random(len(c)) < np.where(good, 0.9, 0.15)]
    log.add("first_report_created", r, clock.after(r, np.where(outcome[r] == COMPLETED, onboarded[r], account[r]),
                                                    rng.exponential(np.where(outcome[r] == COMPLETED, 1.0, 5.0)), "work"))
    t = c[rng.random(len(c)) < np.where(good, 0.7, 0.2)]
    invites = np.where(seg[t] == ENTERPRISE, rng.integers(3, 40, len(t)), rng.integers(1, 6, len(t)))
    log.add("team_invited", t, clock.after(t, account[t], rng.exponential(3.0, len(t)) + 0.5, "work"),
            json_props(invites=invites))

    # renewal: the first anniversary decides churn
    renewal = np.full(n, NEVER)
    r1 = clock.at(c, clock.local_day(c, conv) + 365, "work")
    reach = r1 <= END_S
    renewal[c[reach]] = r1[reach]
    rc = c[reach]
    log.add("renewal_reminder_sent", rc, clock.at(rc, clock.local_day(rc, renewal[rc]) - 30, "morning"),
            json_props(days_before=np.full(len(rc), 30)))
    churn_p = np.select(
        [outcome[rc] == COMPLETED, outcome[rc] == STALLED],
        [np.where(seg[rc] == SME, op.churn_sme_completed, op.churn_enterprise_completed),
         np.where(seg[rc] == SME, op.churn_sme_stalled, op.churn_enterprise_stalled)],
        default=op.churn_sme_never_started,
    )
    churns = rng.random(len(rc)) < churn_p
    cancel = np.full(n, NEVER)
    cancel[rc[churns]] = renewal[rc[churns]]
    q = rc[churns]
    reason_w = np.array([[0.05, 0.3, 0.25, 0.2, 0.2], [0.5, 0.1, 0.1, 0.2, 0.1]])
    reason = choice(rng, reason_w, (outcome[q] != COMPLETED).astype(np.int64), len(q))
    log.add("subscription_cancelled", q, cancel[q], json_props(reason=(CANCEL_REASONS, reason)))
    k = rc[~churns]
    log.add("subscription_renewed", k, renewal[k], json_props(plan=(PLANS, plan0[k]), term_months=np.full(len(k), 12)),
            channel=np.where(seg[k] == ENTERPRISE, CHANNEL_CODE["sales"], CHANNEL_CODE["web"]))

    # expansions: some healthy customers move up a plan during adoption
    plan1 = plan0.copy()
    upgrade = np.full(n, NEVER)
    cand = c[good & (plan0[c] % 2 == 0)]
    cand = cand[rng.random(len(cand)) < np.where(seg[cand] == ENTERPRISE, 0.1, 0.15)]
    stop = np.minimum(cancel, END_S)
    when = onboarded[cand] + 30 * DAY + (rng.random(len(cand)) * 330 * DAY).astype(np.int64)
    ok = when < stop[cand]
    u = cand[ok]
    up_ts = np.maximum(clock.at(u, clock.local_day(u, when[ok]), "work"), onboarded[u] + DAY)
    keep = up_ts < stop[u]
    u = u[keep]
    upgrade[u] = up_ts[keep]
    plan1[u] = plan0[u] + 1
    log.add("plan_upgraded", u, upgrade[u], json_props(from_plan=(PLANS, plan0[u]), to_plan=(PLANS, plan1[u])),
            channel=np.where(seg[u] == ENTERPRISE, CHANNEL_CODE["sales"], CHANNEL_CODE["app"]))
    return Subscription(converted, plan0, plan1, upgrade, billing, outcome, account, started, onboarded,
                        renewal, cancel)
