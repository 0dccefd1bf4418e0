"""Support tickets by email, chat and phone, with their resolution times.

Stalled SME imports open tickets about data import during onboarding; everyone else
opens the occasional ticket while using the product.  Email tickets sometimes take
days (those customers' NPS dips); chats are fast but badly received.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from journeymap.demo.catalog import DAY, HOUR, PARAMS
from journeymap.demo.core import EventLog, choice, expand, id_strings, json_props
from journeymap.demo.funnel import People
from journeymap.demo.postsale import COMPLETED, STALLED, Subscription

TOPICS = ("data_import", "billing", "integration", "export", "login", "permissions")
ADOPTION_TOPIC_WEIGHTS = np.array([0.0, 0.22, 0.28, 0.22, 0.16, 0.12])
EMAIL, CHAT, PHONE = 0, 1, 2


@dataclass
class Tickets:
    """One row per ticket, ordered by opening time."""

    cust: np.ndarray
    opened: np.ndarray
    resolved: np.ndarray
    medium: np.ndarray
    topic: np.ndarray
    ticket_id: pa.Array
    contact_ts: np.ndarray  # when the chat or call took place (opened for email)

    @property
    def hours(self) -> np.ndarray:
        return np.asarray((self.resolved - self.opened) / HOUR)


def support(rng: np.random.Generator, p: People, sub: Subscription, log: EventLog) -> Tickets:
    sp, op = PARAMS.support, PARAMS.onboarding
    clock = p.clock
    # onboarding tickets about data import
    s = np.flatnonzero(np.isin(sub.outcome, (STALLED, COMPLETED)))
    rate = np.where(sub.outcome[s] == STALLED, op.import_ticket_stalled, op.import_ticket_completed)
    s = s[rng.random(len(s)) < rate]
    on_ts = clock.after(s, sub.import_started_ts[s], rng.exponential(2.0, len(s)) + 0.05, "work")
    # adoption tickets
    c = np.flatnonzero(sub.customer)
    begin = sub.onboarded_ts[c] + DAY
    days = np.maximum(sub.stop_ts[c] - begin, 0) / DAY
    owner, _ = expand(rng.poisson(np.array(sp.tickets_per_day)[p.seg[c]] * days))
    a = c[owner]
    ad_ts = clock.at(a, clock.local_day(a, begin[owner]) + rng.random(len(a)) * days[owner], "work")

    cust = np.concatenate([s, a])
    opened = np.concatenate([on_ts, ad_ts])
    topic = np.concatenate([np.zeros(len(s), dtype=np.int64),
                            choice(rng, ADOPTION_TOPIC_WEIGHTS, None, len(a))])
    order = np.lexsort((cust, opened))
    cust, opened, topic = cust[order], opened[order], topic[order]
    keep = opened < sub.stop_ts[cust]
    cust, opened, topic = cust[keep], opened[keep], topic[keep]
    n = len(cust)
    medium = choice(rng, np.array(sp.media_weights), p.seg[cust].astype(np.int64), n)
    median = np.array(sp.resolution_median_hours)[medium]
    sigma = np.array(sp.resolution_sigma)[medium]
    hours = np.clip(median * np.exp(sigma * rng.standard_normal(n)), 0.05, 40 * 24)
    resolved = opened + np.maximum((hours * HOUR).astype(np.int64), 180)
    ids = id_strings("T", np.arange(1, n + 1), 7)
    contact = opened.copy()
    contact[medium == CHAT] += rng.integers(5, 120, int((medium == CHAT).sum()))
    contact[medium == PHONE] += rng.integers(30, 300, int((medium == PHONE).sum()))
    resolved = np.maximum(resolved, contact + 120)

    log.add("support_ticket_opened", cust, opened,
            json_props(ticket_id=ids, medium=(sp.media, medium), topic=(TOPICS, topic)))
    for name, code in (("chat_started", CHAT), ("support_call_held", PHONE)):
        m = medium == code
        extra = {"wait_min": rng.integers(4, 26, int(m.sum()))} if code == CHAT else {
            "duration_min": rng.integers(4, 35, int(m.sum()))}
        log.add(name, cust[m], contact[m], json_props(ticket_id=ids.filter(m), **extra))
    log.add("support_ticket_resolved", cust, resolved,
            json_props(ticket_id=ids, resolution_hours=np.round((resolved - opened) / HOUR, 1)))
    return Tickets(cust, opened, resolved, medium, topic, ids, contact)
