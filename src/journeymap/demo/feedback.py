"""Surveys (CSAT, CES, NPS) with comments, and support transcripts.

Scores are drawn from per-group distributions in :mod:`demo_catalog`, so the
planted means are known exactly: stalled imports score low, chats score low, and
customers whose ticket took more than 72 hours give a low NPS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from journeymap.demo.catalog import DAY, END_S, HOUR, PARAMS
from journeymap.demo.core import NEVER, choice
from journeymap.demo.funnel import People, Presale
from journeymap.demo.postsale import COMPLETED, STALLED, Subscription
from journeymap.demo.support import CHAT, PHONE, TOPICS, Tickets
from journeymap.demo.text import NEG, NEU, POS, comment_pool, transcript_parts

SUPPORT_TOUCHPOINTS = ("support_ticket", "support_chat", "support_call")
SUPPORT_EVENTS = ("support_ticket_resolved", "chat_started", "support_call_held")
NPS_NONE, NPS_FAST, NPS_SLOW = 0, 1, 2
WEBINAR_CSAT = (0.04, 0.08, 0.2, 0.4, 0.28)
DEMO_CSAT = (0.03, 0.07, 0.2, 0.4, 0.3)


@dataclass
class Survey:
    """A batch of feedback rows of one metric at one touchpoint."""

    cust: np.ndarray
    ts: np.ndarray
    metric: str
    score: np.ndarray
    touchpoint: str | None
    event: np.ndarray | str | None
    context: np.ndarray | str


def _tone(metric: str, score: np.ndarray) -> np.ndarray:
    if metric == "nps":
        return np.where(score <= 6, NEG, np.where(score <= 8, NEU, POS))
    if metric == "ces":
        return np.where(score >= 5, NEG, np.where(score == 4, NEU, POS))
    return np.where(score <= 2, NEG, np.where(score == 3, NEU, POS))


def _scores(rng: np.random.Generator, tables: list[tuple[float, ...]], group: np.ndarray, low: int) -> np.ndarray:
    return np.asarray(choice(rng, np.array(tables), group, len(group)) + low)


def nps_groups(tickets: Tickets, stop: np.ndarray, cust: np.ndarray, when: np.ndarray, n: int) -> np.ndarray:
    """NONE / FAST / SLOW: tickets opened before the answer, slow if resolved after > 72 h."""
    at = np.full(n, NEVER)
    at[cust] = when
    before = tickets.opened < at[tickets.cust]
    seen = tickets.resolved <= stop[tickets.cust]
    slow = before & seen & (tickets.hours > PARAMS.support.slow_hours)
    group = np.zeros(n, dtype=np.int64)
    group[tickets.cust[before]] = NPS_FAST
    group[tickets.cust[slow]] = NPS_SLOW
    return group[cust]


def surveys(rng: np.random.Generator, p: People, pre: Presale, sub: Subscription, tickets: Tickets) -> list[Survey]:
    op, sp, clock, n = PARAMS.onboarding, PARAMS.support, p.clock, p.n
    out: list[Survey] = []
    o = np.flatnonzero(np.isin(sub.outcome, (STALLED, COMPLETED)))
    o = o[rng.random(len(o)) < op.survey_response]
    done = sub.outcome[o] == COMPLETED
    base = np.where(done, sub.onboarded_ts[o], sub.import_started_ts[o] + 7 * DAY)
    ts = clock.after(o, base, rng.uniform(2.0, 7.0, len(o)), "any")
    event = np.where(done, "data_import_completed", "data_import_started")
    out.append(Survey(o, ts, "csat", _scores(rng, [op.csat_stalled, op.csat_completed], done.astype(np.int64), 1),
                      "data_import", event, "data_import"))
    e = rng.random(len(o)) < op.ces_response / op.survey_response
    out.append(Survey(o[e], ts[e] + 45, "ces", _scores(rng, [op.ces_stalled, op.ces_completed],
                                                           done[e].astype(np.int64), 1),
                      "data_import", event[e], "data_import"))

    stop = sub.stop_ts
    t = np.flatnonzero((tickets.resolved <= stop[tickets.cust]) & (rng.random(len(tickets.cust)) < sp.csat_response))
    tc = tickets.cust[t]
    ts = tickets.resolved[t] + rng.integers(HOUR // 2, 24 * HOUR, len(t))
    medium = tickets.medium[t]
    score = _scores(rng, [sp.csat_email, sp.csat_chat, sp.csat_phone], medium, 1)
    for code, (tp, ev) in enumerate(zip(SUPPORT_TOUCHPOINTS, SUPPORT_EVENTS)):
        m = medium == code
        out.append(Survey(tc[m], ts[m], "csat", score[m], tp, ev, tp))

    c = np.flatnonzero(sub.customer)
    when = clock.at(c, clock.local_day(c, pre.conv_ts[c]) + sp.nps_after_days, "any")
    answer = (when < stop[c]) & (rng.random(len(c)) < np.array(sp.nps_response)[p.seg[c]])
    c, when = c[answer], when[answer]
    group = nps_groups(tickets, stop, c, when, n)
    score = _scores(rng, [sp.nps_none, sp.nps_fast, sp.nps_slow], group, 0)
    context = np.where(group == NPS_SLOW, "nps_slow_support", "nps")
    out.append(Survey(c, when, "nps", score, None, None, context))

    for ts_all, dist, tp, ev, rate in ((pre.webinar_ts, WEBINAR_CSAT, "webinar", "webinar_attended", 0.3),
                                       (pre.demo_held_ts, DEMO_CSAT, "product_demo", "demo_held", 0.25)):
        w = np.flatnonzero(ts_all != NEVER)
        w = w[rng.random(len(w)) < rate]
        out.append(Survey(w, ts_all[w] + rng.integers(HOUR, 20 * HOUR, len(w)), "csat",
                          _scores(rng, [dist], np.zeros(len(w), dtype=np.int64), 1), tp, ev, tp))
    return out


def feedback_table(rng: np.random.Generator, batches: list[Survey], stop: np.ndarray) -> pa.Table:
    """The feedback rows, sorted by customer and time (``cust`` index, ``ts`` epoch seconds)."""
    cust = np.concatenate([b.cust for b in batches])
    ts = np.concatenate([b.ts for b in batches])
    score = np.concatenate([b.score for b in batches]).astype(np.int64)
    metric = np.concatenate([np.full(len(b.cust), b.metric, dtype=object) for b in batches])
    tp = np.concatenate([np.full(len(b.cust), b.touchpoint, dtype=object) for b in batches])
    event = np.concatenate([np.broadcast_to(np.asarray(b.event, dtype=object), len(b.cust)) for b in batches])
    context = np.concatenate([np.broadcast_to(np.asarray(b.context, dtype=object), len(b.cust)) for b in batches])
    tone = np.concatenate([_tone(b.metric, b.score) for b in batches])
    keep = (ts <= np.minimum(stop[cust], END_S))
    cust, ts, score, metric, tp, event, context, tone = (
        a[keep] for a in (cust, ts, score, metric, tp, event, context, tone))
    order = np.lexsort((metric.astype(str), ts, cust))
    cust, ts, score, metric, tp, event, context, tone = (
        a[order] for a in (cust, ts, score, metric, tp, event, context, tone))

    has_comment = rng.random(len(cust)) < np.where(metric == "nps", 0.6, 0.55)
    comment = np.full(len(cust), None, dtype=object)
    for ctx in sorted(set(context.tolist())):
        for t in (NEG, NEU, POS):
            m = np.flatnonzero(has_comment & (context == ctx) & (tone == t))
            pool = comment_pool(ctx, t)
            comment[m] = pool.take(pa.array(rng.integers(0, len(pool), len(m)))).to_numpy(zero_copy_only=False)
    return pa.table({
        "cust": pa.array(cust), "ts": pa.array(ts), "metric": pa.array(metric, pa.string()),
        "score": pa.array(score), "touchpoint": pa.array(tp, pa.string()), "event": pa.array(event, pa.string()),
        "comment": pa.array(comment, pa.string()),
    })


def transcripts(rng: np.random.Generator, tickets: Tickets, stop: np.ndarray) -> pa.Table:
    """Support conversations by chat and phone, one row per turn; the ticket id names the conversation."""
    sp = PARAMS.support
    t = np.flatnonzero(np.isin(tickets.medium, (CHAT, PHONE)) & (tickets.contact_ts < stop[tickets.cust]))
    t = t[rng.random(len(t)) < 0.85]
    medium = tickets.medium[t]
    neg = rng.random(len(t)) < np.where(medium == CHAT, sp.chat_negative_transcript, sp.phone_negative_transcript)
    tone = np.where(neg, NEG, POS)
    custs: list[np.ndarray] = []
    stamps: list[np.ndarray] = []
    texts: list[pa.Array] = []
    speakers: list[np.ndarray] = []
    tps: list[np.ndarray] = []
    convs: list[np.ndarray] = []
    for code, name in ((CHAT, "chat"), (PHONE, "phone")):
        for k, topic in enumerate(TOPICS):
            for tn in (NEG, POS):
                sel = t[(medium == code) & (tickets.topic[t] == k) & (tone == tn)]
                if len(sel) == 0:
                    continue
                parts = transcript_parts(name, topic, tn)
                m, turns = len(sel), len(parts)
                gap = rng.integers(15, 90, (m, turns)) if code == CHAT else rng.integers(10, 60, (m, turns))
                if code == CHAT and tn == NEG:
                    gap[:, 4] += rng.integers(600, 1800, m)
                offsets = np.cumsum(gap, axis=1) - gap[:, :1]
                stamps.append((tickets.contact_ts[sel][:, None] + offsets).ravel())
                custs.append(np.repeat(tickets.cust[sel], turns))
                chosen = [pool.take(pa.array(rng.integers(0, len(pool), m))) for _, pool in parts]
                order = (np.arange(m)[:, None] + np.arange(turns)[None, :] * m).ravel()
                texts.append(pa.concat_arrays(chosen).take(pa.array(order)))
                speakers.append(np.tile(np.array([s for s, _ in parts], dtype=object), m))
                tps.append(np.full(m * turns, "support_chat" if code == CHAT else "support_call", dtype=object))
                convs.append(np.repeat(sel, turns))
    cust = np.concatenate(custs) if custs else np.zeros(0, dtype=np.int64)
    ts = np.concatenate(stamps) if stamps else np.zeros(0, dtype=np.int64)
    text = pa.concat_arrays(texts) if texts else pa.array([], pa.string())
    keep = ts <= np.minimum(stop[cust], END_S)
    order = np.flatnonzero(keep)[np.lexsort((ts[keep], cust[keep]))]
    empty = np.zeros(0, dtype=object)
    conv = np.concatenate(convs)[order] if convs else np.zeros(0, dtype=np.int64)
    return pa.table({
        "cust": pa.array(cust[order]), "ts": pa.array(ts[order]), "text": text.take(pa.array(order)),
        "channel": pa.array(np.full(len(order), "support", dtype=object), pa.string()),
        "touchpoint": pa.array(np.concatenate(tps)[order] if tps else empty, pa.string()),
        "speaker": pa.array(np.concatenate(speakers)[order] if speakers else empty, pa.string()),
        "conversation_id": tickets.ticket_id.take(pa.array(conv)),
    })
