"""Transactions: first payments, monthly invoices, annual renewals, expansions, refunds.

Each positive payment is also an ``invoice_paid`` event carrying its order id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeymap.demo.catalog import CURRENCIES, DAY, END_S, ENTERPRISE, HOUR, PRICES
from journeymap.demo.core import NEVER, EventLog, expand, id_strings, json_props
from journeymap.demo.funnel import People, Presale
from journeymap.demo.postsale import Subscription

MONTH = int(30.44 * DAY)
ANNUAL_MONTHS_CHARGED = 10  # two months free on annual billing
RENEWAL_UPLIFT = 1.05


@dataclass
class Transactions:
    cust: np.ndarray
    ts: np.ndarray
    amount: np.ndarray
    currency: np.ndarray
    order_id: pa.Array


def _monthly_price(p: People, plan: np.ndarray, cust: np.ndarray) -> np.ndarray:
    table = np.array([PRICES[c] for c in CURRENCIES])
    base = table[p.currency[cust], plan]
    seats = np.clip(p.size[cust] // 40, 10, 400)
    factor = np.where(p.seg[cust] == ENTERPRISE, np.maximum(1.0, seats / 25.0), 1.0)
    return np.asarray(np.round(base * factor, 2))


def billing(rng: np.random.Generator, p: People, pre: Presale, sub: Subscription, log: EventLog) -> Transactions:
    c = np.flatnonzero(sub.customer)
    conv = pre.conv_ts[c]
    stop = sub.stop_ts[c]
    monthly = sub.billing[c] == 0

    # monthly invoices from the purchase until cancellation or the end of the data
    m = c[monthly]
    count = (stop[monthly] - conv[monthly] - 1) // MONTH + 1
    owner, k = expand(np.maximum(count, 1))
    mc = m[owner]
    m_ts = conv[monthly][owner] + k * MONTH + np.where(k == 0, rng.integers(600, HOUR, len(k)), 6 * HOUR)
    m_plan = np.where(m_ts >= sub.upgrade_ts[mc], sub.plan_final[mc], sub.plan_initial[mc])
    m_amount = _monthly_price(p, m_plan, mc)

    # annual: at purchase, and at the renewal when renewed
    a = c[~monthly]
    a_ts = conv[~monthly] + rng.integers(600, HOUR, len(a))
    a_amount = _monthly_price(p, sub.plan_initial[a], a) * ANNUAL_MONTHS_CHARGED
    renewed = a[(sub.renewal_ts[a] <= END_S) & (sub.cancel_ts[a] == NEVER)]
    r_ts = sub.renewal_ts[renewed] + rng.integers(600, HOUR, len(renewed))
    r_amount = np.round(_monthly_price(p, sub.plan_final[renewed], renewed) * ANNUAL_MONTHS_CHARGED * RENEWAL_UPLIFT, 2)
    # expansion: an annual customer who upgrades pays the difference for the rest of the term
    e = a[sub.upgrade_ts[a] != NEVER]
    e_ts = sub.upgrade_ts[e] + rng.integers(600, HOUR, len(e))
    term_start = np.where(e_ts >= sub.renewal_ts[e], sub.renewal_ts[e], pre.conv_ts[e])
    left = np.clip(1.0 - (e_ts - term_start) / (365 * DAY), 0.05, 1.0)
    diff = _monthly_price(p, sub.plan_final[e], e) - _monthly_price(p, sub.plan_initial[e], e)
    e_amount = np.round(diff * ANNUAL_MONTHS_CHARGED * left, 2)

    pay_cust = np.concatenate([mc, a, renewed, e])
    pay_ts = np.concatenate([m_ts, a_ts, r_ts, e_ts])
    pay_amount = np.concatenate([m_amount, a_amount, r_amount, e_amount])
    ok = pay_ts < np.minimum(sub.stop_ts[pay_cust], END_S)
    pay_cust, pay_ts, pay_amount = pay_cust[ok], pay_ts[ok], pay_amount[ok]

    # refunds: a few duplicate charges, and some cancelling monthly customers' last invoice
    dup = rng.random(len(pay_cust)) < 0.003
    last = np.zeros(len(pay_cust), dtype=bool)
    order = np.lexsort((pay_ts, pay_cust))
    is_last = np.r_[pay_cust[order][1:] != pay_cust[order][:-1], True]
    last[order[is_last]] = True
    cancelled = (sub.cancel_ts[pay_cust] != NEVER) & (sub.billing[pay_cust] == 0) & last
    refund = dup | (cancelled & (rng.random(len(pay_cust)) < 0.25))
    ref_ts = np.where(cancelled, np.maximum(sub.cancel_ts[pay_cust], pay_ts), pay_ts) + rng.integers(DAY, 6 * DAY, len(pay_cust))
    refund &= ref_ts <= END_S
    f_amount = -np.round(pay_amount[refund] * np.where(dup[refund], 1.0, rng.uniform(0.4, 1.0, refund.sum())), 2)

    cust = np.concatenate([pay_cust, pay_cust[refund]])
    ts = np.concatenate([pay_ts, ref_ts[refund]])
    amount = np.concatenate([pay_amount, f_amount])
    order = np.lexsort((amount < 0, ts, cust))
    cust, ts, amount = cust[order], ts[order], amount[order]
    is_refund = amount < 0
    number = np.arange(1, len(cust) + 1)
    inv = id_strings("INV-", number, 8)
    rf = id_strings("RF-", number, 8)
    order_id = pc.if_else(pa.array(is_refund), rf, inv)
    currency = np.asarray(p.currency[cust])

    paid = ~is_refund
    log.add("invoice_paid", cust[paid], ts[paid],
            json_props(order_id=order_id.filter(pa.array(paid)), amount=amount[paid],
                       currency=(CURRENCIES, currency[paid])))
    return Transactions(cust, ts, amount, currency, order_id)
