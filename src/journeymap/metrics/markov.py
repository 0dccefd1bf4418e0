"""Markov-chain attribution computed exactly from the absorbing chain.

States are the last ``order`` touchpoints of a journey (``a>b`` for order 2), plus
``(start)`` and two absorbing states, ``(conversion)`` and ``(null)``.  With Q the
transitions among transient states and R those into the absorbing ones, the absorption
probabilities are B = (I − Q)⁻¹ R; the conversion probability is B[(start), conversion].
Removing a channel sends every transition into a state that contains it to ``(null)``;
its removal effect is 1 − P(conversion without it) / P(conversion).  Each removal is one
sparse linear solve on the states that remain — no simulation, no sampling noise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

START, CONV, NULL = "(start)", "(conversion)", "(null)"
SEP = ">"

Transitions = Mapping[tuple[str, str], float]


@dataclass(frozen=True)
class MarkovResult:
    order: int
    conversion_probability: float
    removal_effects: dict[str, float]
    states: int


def state_channels(state: str) -> list[str]:
    return state.split(SEP)


def transitions_from_paths(paths: Iterable[tuple[Iterable[str], float, float]], order: int = 1) -> dict[tuple[str, str], float]:
    """Transition counts of aggregated paths ``(channels, conversions, nulls)``
    (consecutive repeats are collapsed, as in ChannelAttribution and ``mta``)."""
    counts: dict[tuple[str, str], float] = defaultdict(float)
    for channels, conversions, nulls in paths:
        seq: list[str] = []
        for c in channels:
            if not seq or seq[-1] != c:
                seq.append(c)
        if not seq:
            continue
        states = [SEP.join(seq[max(0, i - order + 1): i + 1]) for i in range(len(seq))]
        weight = conversions + nulls
        prev = START
        for s in states:
            counts[(prev, s)] += weight
            prev = s
        if conversions:
            counts[(prev, CONV)] += conversions
        if nulls:
            counts[(prev, NULL)] += nulls
    return dict(counts)


def transition_probabilities(transitions: Transitions) -> dict[tuple[str, str], float]:
    out_total: dict[str, float] = defaultdict(float)
    for (a, _), n in transitions.items():
        out_total[a] += n
    return {(a, b): n / out_total[a] for (a, b), n in transitions.items() if out_total[a] > 0}


def conversion_probability(transitions: Transitions, removed: frozenset[str] = frozenset()) -> tuple[float, int]:
    """P(absorbed in conversion | start) with the states containing a ``removed``
    channel turned into ``(null)``; and the number of transient states."""
    probs = transition_probabilities(transitions)
    transient = sorted({a for a, _ in probs} | {b for _, b in probs if b not in (CONV, NULL)})
    keep = [s for s in transient if s == START or not (set(state_channels(s)) & removed)]
    index = {s: i for i, s in enumerate(keep)}
    rows, cols, vals = [], [], []
    r_conv = np.zeros(len(keep))
    for (a, b), p in probs.items():
        if a not in index:
            continue
        if b == CONV:
            r_conv[index[a]] += p
        elif b in index:
            rows.append(index[a])
            cols.append(index[b])
            vals.append(p)
    q = sparse.csr_matrix((vals, (rows, cols)), shape=(len(keep), len(keep)))
    system = (sparse.identity(len(keep), format="csc") - q.tocsc()).tocsc()
    absorbed = np.atleast_1d(spsolve(system, r_conv))
    return float(absorbed[index[START]]), len(transient)


def removal_effects(transitions: Transitions, order: int = 1) -> MarkovResult:
    """Removal effect of every channel appearing in ``transitions``."""
    base, n_states = conversion_probability(transitions)
    channels = sorted({c for pair in transitions for s in pair if s not in (START, CONV, NULL)
                       for c in state_channels(s)})
    effects = {}
    for channel in channels:
        without, _ = conversion_probability(transitions, frozenset([channel]))
        effects[channel] = 1 - without / base if base > 0 else 0.0
    return MarkovResult(order, base, effects, n_states)


def attribute(effects: Mapping[str, float], conversions: float) -> dict[str, float]:
    """Conversions shared in proportion to the removal effects."""
    total = sum(max(v, 0.0) for v in effects.values())
    if total <= 0:
        return {k: 0.0 for k in effects}
    return {k: conversions * max(v, 0.0) / total for k, v in effects.items()}
