"""Keyword features and clusters for themes (numpy + scipy only).

Texts become TF-IDF rows over stemmed content words; clusters come from average-linkage
hierarchical clustering on cosine distance, cut where the silhouette is best.  The same
texts always give the same themes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist, squareform

from journeymap.engine import stats

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
SILHOUETTE_SLACK = 0.05  # relative
_TOKEN = re.compile(r"[a-z][a-z0-9'+-]*[a-z0-9]|[a-z]")


def tokens(text: str) -> list[str]:
    """Content words of ``text`` (lower case, no stopwords, no one-letter words)."""
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1 and t not in STOPWORDS]


def stem(word: str) -> str:
    """A light suffix stripper: import, imports, importing and imported are one term."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) >= 5 else word


def terms(text: str, surface: dict[str, Counter[str]] | None = None, *,
          bigrams: bool = False) -> list[str]:
    """Stemmed content words, and with ``bigrams`` pairs of adjacent ones within a
    clause; ``surface`` collects the words each term was written as.  Themes use single
    words: on short texts bigrams split one topic by its wording (measured on the demo)."""
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
            if bigrams and prev is not None:
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
    """TF-IDF (sublinear tf, smooth idf) of distinct ``texts``; ``weights`` (how often
    each was said) matter for clustering, not for the vocabulary."""
    forms: dict[str, Counter[str]] = {}
    docs = [Counter(terms(t, forms)) for t in texts]
    df: Counter[str] = Counter()  # over distinct texts: a dominant topic keeps its words
    for doc in docs:
        df.update(doc.keys())
    total = float(len(docs))
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


def silhouette(d: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a square distance matrix ``d`` (-1 for one cluster)."""
    score = stats.silhouette(d, labels)
    return -1.0 if score is None else score


def centroids(x: sparse.csr_matrix | np.ndarray, labels: np.ndarray, k: int,
              weights: np.ndarray) -> np.ndarray:
    """Unit-length weighted mean of each cluster's rows."""
    c = np.vstack([np.asarray(x[labels == j].T @ weights[labels == j]).ravel() for j in range(k)])
    norms = np.linalg.norm(c, axis=1)
    return c / np.where(norms > 0, norms, 1.0)[:, None]


def choose_clusters(x: sparse.csr_matrix | np.ndarray, weights: np.ndarray, *, k: int | None,
                    max_k: int = 30, seed: int = 7, sample: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Labels and unit centroids by average-linkage clustering on cosine distance.

    Deterministic (k-means restarts gave different themes for the same texts).  The
    tree is cut at ``k`` clusters, or at the k in 2..max_k with the best silhouette -- the smallest k within 5 %
    (``SILHOUETTE_SLACK``) of the best, so near-ties do not split topics.  Beyond
    ``sample`` distinct texts the tree is built on a seeded sample (more often said
    texts more likely) and the rest join the nearest centroid.
    """
    n = x.shape[0]
    pick = np.arange(n)
    if n > sample:
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(n, size=sample, replace=False, p=weights / weights.sum()))
    xs = _dense(x[pick])
    d = np.clip(pdist(xs, "cosine"), 0.0, 2.0)
    tree = linkage(d, "average")
    square = squareform(d)
    m = len(pick)
    if k is not None:
        cut = fcluster(tree, min(k, m), "maxclust") - 1
    else:
        fits: list[tuple[float, np.ndarray]] = []
        for kk in range(2, max(2, min(max_k, m // 4)) + 1):
            labels = fcluster(tree, kk, "maxclust") - 1
            fits.append((silhouette(square, labels), labels))
        best = max(f[0] for f in fits)
        cut = next(f for f in fits if f[0] >= best - SILHOUETTE_SLACK * abs(best))[1]
    kk = int(cut.max()) + 1
    centers = centroids(xs, cut, kk, weights[pick])
    if len(pick) == n:
        return cut, centers
    sims = _dense(x @ centers.T)
    return sims.argmax(axis=1), centers
