"""Keyphrase features and weighted spherical k-means for themes (numpy + scipy only).

Texts become TF-IDF rows over unigrams and bigrams of content words; clusters are found
by spherical k-means (cosine), each distinct text weighted by how often it was said, and
the number of clusters is chosen by the silhouette on a fixed sample.  Everything is
seeded: the same texts give the same themes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

STOPWORDS = frozenset("""
a about above after again against all almost also am an and any are as at be because been
before being below between both but by can could did do does doing done down during each
either else even ever every few for from further get got had has have having he her here
hers him his how i if in into is it its itself just last let lot me more most much my
no nor not now of off on once one only or other our ours out over own please quite
rather really same she should so some still such than that the their them then there
these they this those though through to too under until up us very was we well were
what when where which while who whom why will with within would yet you your yours
again already always another anyone anything around back bit able came come could've
didn't doesn't don't eventually go going gone hi hello i'm it's i've like make made
many may might must need never new next often ok okay put say said see seems set sure
take thank thanks think told try tried two three way want went will won't yes
""".split())
_TOKEN = re.compile(r"[a-z][a-z0-9'+-]*[a-z0-9]|[a-z]")


def tokens(text: str) -> list[str]:
    """Content words of ``text`` (lower case, no stopwords, no one-letter words)."""
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1 and t not in STOPWORDS]


def stem(word: str) -> str:
    """A light suffix stripper: import, imports, importing and imported are one term."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def terms(text: str, surface: dict[str, Counter[str]] | None = None) -> list[str]:
    """Unigrams and bigrams of adjacent content words (bigrams within a clause), stemmed;
    ``surface`` collects the words each term was written as."""
    out: list[str] = []
    for clause in re.split(r"[.,;:!?()\n]+", text.lower()):
        words = [w for w in _TOKEN.findall(clause) if len(w) > 1]
        prev: tuple[str, str] | None = None
        for w in words:
            if w in STOPWORDS:
                prev = None
                continue
            word, w = w, stem(w)
            out.append(w)
            if surface is not None:
                surface.setdefault(w, Counter())[word] += 1
            if prev is not None:
                out.append(f"{prev[0]} {w}")
                if surface is not None:
                    surface.setdefault(out[-1], Counter())[f"{prev[1]} {word}"] += 1
            prev = (w, word)
    return out


@dataclass
class Features:
    matrix: sparse.csr_matrix  # (docs, vocab), rows L2-normalised TF-IDF
    vocab: list[str]
    surface: dict[str, str]  # term -> its most frequent written form


def tfidf(texts: Sequence[str], weights: np.ndarray, *, min_df: int = 2,
          max_df_share: float = 0.5, max_vocab: int = 5000) -> Features:
    """TF-IDF (sublinear tf, smooth idf) of ``texts``; document frequencies count each
    distinct text ``weights`` times."""
    forms: dict[str, Counter[str]] = {}
    docs = [Counter(terms(t, forms)) for t in texts]
    df: Counter[str] = Counter()
    for doc, w in zip(docs, weights):
        for term in doc:
            df[term] += int(w)
    total = float(weights.sum())
    keep = [t for t, n in df.items() if n >= min_df and n <= max_df_share * total]
    keep.sort(key=lambda t: (-df[t], t))
    vocab = sorted(keep[:max_vocab])
    index = {t: i for i, t in enumerate(vocab)}
    rows, cols, vals = [], [], []
    for r, doc in enumerate(docs):
        for term, n in doc.items():
            j = index.get(term)
            if j is not None:
                rows.append(r)
                cols.append(j)
                vals.append(1.0 + np.log(n))
    idf = np.log((1.0 + total) / (1.0 + np.array([df[t] for t in vocab], dtype=float))) + 1.0
    m = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(vocab)))
    m = m.multiply(idf[None, :]).tocsr() if len(vocab) else m
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    surface = {t: forms[t].most_common(1)[0][0] for t in vocab}
    return Features(sparse.csr_matrix(m.multiply(1.0 / norms[:, None])), vocab, surface)


def _dense(x: sparse.csr_matrix | np.ndarray) -> np.ndarray:
    return x.toarray() if sparse.issparse(x) else np.asarray(x)


def spherical_kmeans(x: sparse.csr_matrix | np.ndarray, k: int, weights: np.ndarray,
                     rng: np.random.Generator, *, n_init: int = 3,
                     max_iter: int = 60) -> tuple[np.ndarray, np.ndarray, float]:
    """(labels, unit centroids, weighted cosine objective); rows of ``x`` are unit length."""
    n = x.shape[0]
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    for _ in range(n_init):
        # k-means++ seeding on cosine distance
        first = rng.choice(n, p=weights / weights.sum())
        centers = [_dense(x[first]).ravel()]
        dist = np.clip(1.0 - _dense(x @ centers[0]).ravel(), 0, None)
        for _c in range(1, k):
            p = dist * weights
            idx = rng.choice(n, p=p / p.sum()) if p.sum() > 0 else int(rng.integers(n))
            centers.append(_dense(x[idx]).ravel())
            dist = np.minimum(dist, np.clip(1.0 - _dense(x @ centers[-1]).ravel(), 0, None))
        c = np.vstack(centers)
        labels = np.full(n, -1)
        for _it in range(max_iter):
            sims = _dense(x @ c.T)
            new = sims.argmax(axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            for j in range(k):
                members = labels == j
                if not members.any():
                    continue
                v = np.asarray(x[members].T @ weights[members]).ravel()
                norm = np.linalg.norm(v)
                c[j] = v / norm if norm > 0 else c[j]
        sims = _dense(x @ c.T)
        score = float((sims[np.arange(n), labels] * weights).sum())
        if best is None or score > best[2]:
            best = (labels, c, score)
    assert best is not None
    return best


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette on cosine distance (``x`` rows unit length, dense)."""
    d = np.clip(1.0 - x @ x.T, 0.0, 2.0)
    ks = np.unique(labels)
    if len(ks) < 2:
        return -1.0
    mean_to = np.vstack([d[:, labels == k].mean(axis=1) for k in ks]).T  # (n, clusters)
    own = np.searchsorted(ks, labels)
    sizes = np.array([(labels == k).sum() for k in ks])
    a = mean_to[np.arange(len(x)), own] * sizes[own] / np.maximum(sizes[own] - 1, 1)
    mean_to[np.arange(len(x)), own] = np.inf
    b = mean_to.min(axis=1)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
    s[sizes[own] == 1] = 0.0
    return float(s.mean())


def choose_clusters(x: sparse.csr_matrix | np.ndarray, weights: np.ndarray, *, k: int | None,
                    max_k: int = 20, seed: int = 7, sample: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Labels and centroids: ``k`` given, or the k in 2..max_k with the best silhouette."""
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    if k is not None:
        labels, centers, _ = spherical_kmeans(x, min(k, n), weights, rng)
        return labels, centers
    upper = max(2, min(max_k, n - 1))
    pick = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    xs = _dense(x[pick])
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for kk in range(2, upper + 1):
        labels, centers, _ = spherical_kmeans(x, kk, weights, np.random.default_rng(seed + kk))
        score = silhouette(xs, labels[pick])
        if best is None or score > best[0] + 1e-9:
            best = (score, labels, centers)
    assert best is not None
    return best[1], best[2]
