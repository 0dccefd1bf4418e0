"""Sentiment of what customers write and say, scored once and cached in the store.

The model is VADER (Hutto & Gilbert 2014): a lexicon and rules that ship inside the
``vaderSentiment`` wheel, so nothing is downloaded at run time.  Its ``compound`` score
lies in −1..+1.  Scores are cached in the ``text_sentiment`` table, keyed by the source
table and the text row's ``_key`` (and the model's name, so a new model rescores):
re-analysis reads the cache and scores only rows it has not seen.

At scale the work is set-based: the rows missing from the cache are found with one
anti-join, their *distinct* texts are scored (templated or repeated texts are scored
once), and the scores are joined back and written in batches, one transaction each, so
an interrupted run keeps what it finished.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Protocol

import duckdb
import numpy as np
import pyarrow as pa

from journeymap.data.store import Store
from journeymap.progress import Progress

#: text sources: (source name, table, text column)
SOURCES: tuple[tuple[str, str, str], ...] = (("feedback", "feedback", "comment"),
                                             ("transcripts", "transcripts", "text"))
CACHE_TABLE = "text_sentiment"
CACHE_COLUMNS = ("source VARCHAR, _key UHUGEINT, model VARCHAR, compound DOUBLE, "
                 "pos DOUBLE, neu DOUBLE, neg DOUBLE")
BATCH = 20_000  # distinct texts scored and written per transaction


class Scorer(Protocol):
    """Anything that scores texts: ``name`` identifies it in the cache."""

    name: str

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, 4) array: compound (−1..+1), pos, neu, neg."""


class VaderScorer:
    """VADER, with its lexicon from the ``vaderSentiment`` package."""

    name = "vader-3.3.2"

    def __init__(self) -> None:
        self._analyzer = _vader()

    def score(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 4))
        polarity = self._analyzer.polarity_scores
        for i, text in enumerate(texts):
            s = polarity(text)
            out[i] = (s["compound"], s["pos"], s["neu"], s["neg"])
        return out


@lru_cache(maxsize=1)
def _vader():  # noqa: ANN202 - the analyzer class has no type hints
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def default_scorer() -> Scorer:
    return VaderScorer()


def score_texts(texts: Iterable[str], scorer: Scorer | None = None) -> np.ndarray:
    """Compound scores (−1..+1) of ``texts``; each distinct text is scored once."""
    items = list(texts)
    if not items:
        return np.zeros(0)
    uniq, inverse = np.unique(np.array(items, dtype=object), return_inverse=True)
    scores = (scorer or default_scorer()).score([str(t) for t in uniq])[:, 0]
    return scores[inverse]


def create_cache(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {CACHE_TABLE} ({CACHE_COLUMNS})")


def _missing_sql(source: str, table: str, column: str) -> str:
    return f"""SELECT t._key, t.{column} AS text FROM {table} AS t
        WHERE t.{column} IS NOT NULL AND trim(t.{column}) <> ''
          AND NOT EXISTS (SELECT 1 FROM {CACHE_TABLE} AS c
                          WHERE c.source = '{source}' AND c._key = t._key AND c.model = $model)"""


def ensure_sentiment(store: Store, *, scorer: Scorer | None = None,
                     progress: Progress | None = None) -> int:
    """Score every stored comment and transcript turn not in the cache; returns how many
    rows were added.  Safe to call before every analysis: cached rows cost one anti-join."""
    tell: Progress = progress or (lambda _d, _c, _t: None)
    scorer = scorer or default_scorer()
    store.execute_write(create_cache)
    con = store.con
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    added = 0
    for source, table, column in SOURCES:
        if table not in tables:
            continue
        params = {"model": scorer.name}
        texts = [r[0] for r in con.execute(
            f"SELECT DISTINCT text FROM ({_missing_sql(source, table, column)}) ORDER BY text",
            params).fetchall()]
        total = len(texts)
        for start in range(0, total, BATCH):
            tell(f"sentiment of {source}", start, total)
            chunk = texts[start:start + BATCH]
            scores = scorer.score(chunk)
            batch = pa.table({"text": pa.array(chunk, pa.string()),
                              "compound": scores[:, 0], "pos": scores[:, 1],
                              "neu": scores[:, 2], "neg": scores[:, 3]})
            added += store.execute_write(
                lambda c, b=batch, s=source, t=table, col=column: _write(c, b, s, t, col, params))
        if total:
            tell(f"sentiment of {source}", total, total)
    return added


def _write(con: duckdb.DuckDBPyConnection, batch: pa.Table, source: str, table: str,
           column: str, params: dict[str, object]) -> int:
    con.register("_jm_scored", batch)
    try:
        before = con.execute(f"SELECT count(*) FROM {CACHE_TABLE}").fetchall()[0][0]
        con.execute(f"""INSERT INTO {CACHE_TABLE}
            SELECT '{source}', m._key, $model, s.compound, s.pos, s.neu, s.neg
            FROM ({_missing_sql(source, table, column)}) AS m JOIN _jm_scored AS s USING (text)""",
                    params)
        after = con.execute(f"SELECT count(*) FROM {CACHE_TABLE}").fetchall()[0][0]
    finally:
        con.unregister("_jm_scored")
    return int(after) - int(before)
