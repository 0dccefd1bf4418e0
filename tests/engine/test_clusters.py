"""k-means clusters recover planted groups and describe them in words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from journeymap.engine.clusters import cluster_table, fit_clusters, silhouette
from journeymap.engine.segments import segment_comparison
from journeymap.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path):  # noqa: ANN201
    """30 web researchers (pricing page 3-12 times) and 30 webinar goers (webinar, then signup)."""
    rows = ["customer_id,timestamp,event,channel"]
    for i in range(30):
        for k in range(3 + i % 10):
            rows.append(f"W{i:02d},2026-01-01T{k:02d}:00:00Z,pricing_page_view,web")
        rows.append(f"W{i:02d},2026-01-{2 + i % 7:02d}T00:00:00Z,blog_view,web")
    for i in range(30):
        rows.append(f"V{i:02d},2026-01-01T00:00:00Z,webinar_attended,webinar")
        rows.append(f"V{i:02d},2026-01-03T00:00:00Z,webinar_attended,webinar")
        rows.append(f"V{i:02d},2026-01-{10 + i % 15:02d}T00:00:00Z,signup,web")
    (tmp_path / "events.csv").write_text("\n".join(rows) + "\n")
    w = Workspace.create(tmp_path / "ws")
    w.ingest("events", [tmp_path / "events.csv"])
    yield w
    w.close()


def test_silhouette_by_hand() -> None:
    x = np.array([[0.0], [1.0], [10.0], [11.0]])
    # point 0: a = 1, b = 10.5 -> 0.90476; point 1: a = 1, b = 9.5 -> 0.89474; symmetric
    expected = (2 * (1 - 1 / 10.5) + 2 * (1 - 1 / 9.5)) / 4
    assert silhouette(x, np.array([0, 0, 1, 1])) == pytest.approx(expected)
    assert silhouette(x, np.zeros(4, dtype=np.int64)) is None


def test_clusters_recover_the_planted_groups(ws: Workspace) -> None:
    result = fit_clusters(ws.store.ibis(), seed=1)
    assert result.k == 2 and result.silhouette is not None and result.silhouette > 0.5
    rows = result.assignments.to_pylist()
    by_cluster: dict[str, set[str]] = {}
    for r in rows:
        by_cluster.setdefault(r["segment"], set()).add(r["customer_id"][0])
    assert sorted(map(sorted, by_cluster.values())) == [["V"], ["W"]]
    words = " ".join(str(s["description"]) for s in result.summaries)
    assert "67% of events via webinar" in words and "did blog_view" in words
    assert sum(int(s["customers"]) for s in result.summaries) == 60  # type: ignore[call-overload]


def test_fixed_k_is_deterministic_and_usable_as_segments(ws: Workspace) -> None:
    con = ws.store.ibis()
    first = fit_clusters(con, 3, seed=5)
    again = fit_clusters(con, 3, seed=5)
    assert first.assignments.equals(again.assignments)
    assert first.k <= 3
    rows = segment_comparison(con, None, cluster_table(first), ["events"])
    assert sum(int(r["customers"]) for r in rows) == 60  # type: ignore[call-overload]
