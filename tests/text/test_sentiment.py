"""VADER scores and the text_sentiment cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from journeymap.data.ingest import ingest
from journeymap.data.store import Store
from journeymap.text.sentiment import CACHE_TABLE, VaderScorer, ensure_sentiment, score_texts

# Published in the VADER README (vaderSentiment 3.3.2): compound, pos, neu, neg.
KNOWN = [
    ("VADER is smart, handsome, and funny.", 0.8316, 0.746, 0.254, 0.0),
    ("The book was good.", 0.4404, 0.492, 0.508, 0.0),
    ("The book was kind of good.", 0.3832, 0.343, 0.657, 0.0),
    ("A really bad, horrible book.", -0.8211, 0.0, 0.284, 0.716),
]


@pytest.mark.parametrize(("text", "compound", "pos", "neu", "neg"), KNOWN)
def test_vader_scores_known_sentences(text: str, compound: float, pos: float, neu: float,
                                      neg: float) -> None:
    got = VaderScorer().score([text])[0]
    assert got == pytest.approx([compound, pos, neu, neg], abs=1e-3)


def test_score_texts_scores_each_distinct_text_once_and_keeps_order() -> None:
    calls: list[int] = []

    class Counting(VaderScorer):
        def score(self, texts):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return super().score(texts)

    got = score_texts(["The book was good.", "A really bad, horrible book.",
                       "The book was good."], Counting())
    assert calls == [2]
    assert got == pytest.approx(np.array([0.4404, -0.8211, 0.4404]), abs=1e-4)


def _load(store: Store, tmp_path: Path, comments: list[str]) -> None:
    path = tmp_path / f"fb{len(comments)}.csv"
    rows = ["customer_id,timestamp,metric,score,comment"]
    rows += [f'C{i},2026-01-0{1 + i % 9}T10:00:00Z,csat,4,"{c}"' for i, c in enumerate(comments)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ingest(store, "feedback", [path])


def test_cache_scores_each_row_once_and_only_new_rows_later(tmp_path: Path) -> None:
    store = Store.memory()
    _load(store, tmp_path, ["Great support, thanks!", "Terrible import, it failed again.",
                            "Great support, thanks!"])
    progress: list[tuple[str, int, int | None]] = []
    assert ensure_sentiment(store, progress=lambda d, c, t: progress.append((d, c, t))) == 3
    assert progress[-1] == ("sentiment of feedback", 2, 2)  # two distinct texts
    assert ensure_sentiment(store) == 0  # re-analysis reads the cache
    _load(store, tmp_path, ["Great support, thanks!", "Terrible import, it failed again.",
                            "Great support, thanks!", "The book was good."])
    assert ensure_sentiment(store) == 1
    rows = store.con.execute(f"SELECT f.comment, s.compound, s.model FROM feedback f JOIN "
                             f"{CACHE_TABLE} s USING (_key) ORDER BY f.comment").fetchall()
    assert len(rows) == 4
    assert {r[2] for r in rows} == {"vader-3.3.2"}
    assert dict((r[0], r[1]) for r in rows)["The book was good."] == pytest.approx(0.4404, abs=1e-4)
    store.close()


def test_a_different_model_rescores(tmp_path: Path) -> None:
    store = Store.memory()
    _load(store, tmp_path, ["Great support, thanks!"])
    ensure_sentiment(store)

    class Other(VaderScorer):
        name = "other-model"

    assert ensure_sentiment(store, scorer=Other()) == 1
    store.close()
