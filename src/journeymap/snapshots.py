"""Snapshots: each map's numbers as each refresh found them, one per day, so trends and
the goal's progress can be read from history (issue 13, point 6; ADR 0020).

A snapshot is small and flat: every stage's reach and conversion, every touchpoint's and
the journey's CSAT / NPS / CES with n, the goal's current value and status, and the
alerts — rows of ``{kind, target, metric, value, n}``.  It is written to
``snapshots/MAP.jsonl`` in the workspace, one line per UTC day (a later refresh the same
day replaces the day's line), by the app after each unfiltered analysis and by
``journeymap watch``.  Plain files: the CLI, the app and a notebook read the same
history, and a team may keep it in git beside the maps.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FOLDER = "snapshots"
_LOCK = threading.Lock()


def snapshot_of(analysis: Mapping[str, Any], *, map_id: str, taken_at: dt.datetime | None = None) -> dict[str, Any]:
    """The numbers of one analysis worth keeping (see the module doc)."""
    taken = (taken_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    rows: list[dict[str, Any]] = []
    for s in analysis.get("stages") or []:
        if isinstance(s, Mapping):
            rows.append({"kind": "stage", "target": s.get("id"), "metric": "customers", "value": s.get("customers")})
            if s.get("conversion_to_next") is not None:
                rows.append({"kind": "stage", "target": s.get("id"), "metric": "conversion_to_next",
                             "value": s.get("conversion_to_next"), "n": s.get("customers")})
    feedback = analysis.get("feedback") if isinstance(analysis.get("feedback"), Mapping) else {}
    blocks = [("journey", {"journey": feedback.get("journey")}), ("touchpoint", feedback.get("touchpoints") or {})]
    for kind, block in blocks:
        for target, kpis in (block or {}).items():
            for metric, v in (kpis or {}).items():
                if isinstance(v, Mapping) and v.get("value") is not None:
                    rows.append({"kind": kind, "target": target, "metric": metric, "value": v.get("value"),
                                 "n": v.get("n"), "ci_low": v.get("ci_low"), "ci_high": v.get("ci_high")})
    goal = analysis.get("goal") if isinstance(analysis.get("goal"), Mapping) else {}
    if goal:
        current = goal.get("current") if isinstance(goal.get("current"), Mapping) else {}
        rows.append({"kind": "goal", "target": "goal", "metric": goal.get("metric"), "value": current.get("value"),
                     "n": current.get("n"), "ci_low": current.get("ci_low"), "ci_high": current.get("ci_high"),
                     "target_value": goal.get("target"), "status": goal.get("status")})
    alerts = (analysis.get("alerts") or {}).get("alerts") if isinstance(analysis.get("alerts"), Mapping) else []
    scope = analysis.get("scope") if isinstance(analysis.get("scope"), Mapping) else {}
    return {"map": map_id, "taken_at": taken.strftime("%Y-%m-%dT%H:%M:%SZ"), "day": taken.date().isoformat(),
            "customers": scope.get("customers"), "events": scope.get("events"), "numbers": rows,
            "alerts": [{k: a.get(k) for k in ("kind", "target", "metric", "period", "text")}
                       for a in alerts or [] if isinstance(a, Mapping)]}


def _path(root: Path, map_id: str) -> Path:
    if not map_id or "/" in map_id or map_id.startswith("."):
        raise ValueError(f"not a map id: {map_id!r}")
    return Path(root) / FOLDER / f"{map_id}.jsonl"


def history(root: Path, map_id: str) -> list[dict[str, Any]]:
    """Every snapshot of ``map_id``, oldest first."""
    path = _path(root, map_id)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut by a crash: the others stand
                continue
    return out


def record(root: Path, snap: dict[str, Any]) -> list[dict[str, Any]]:
    """Add ``snap`` to its map's history (replacing the same day's); the history before it."""
    path = _path(root, snap["map"])
    with _LOCK:
        before = history(root, snap["map"])
        kept = [s for s in before if s.get("day") != snap["day"]] + [snap]
        kept.sort(key=lambda s: s.get("taken_at") or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(s, separators=(",", ":"), default=str) + "\n" for s in kept),
                       encoding="utf-8")
        os.replace(tmp, path)
    return before


def new_alerts(snap: Mapping[str, Any], before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts of ``snap`` that the snapshot before it did not have."""
    def key(a: Mapping[str, Any]) -> tuple[Any, ...]:
        return a.get("kind"), a.get("target"), a.get("metric"), a.get("period")

    seen = {key(a) for a in (before[-1].get("alerts") or [])} if before else set()
    return [a for a in snap.get("alerts") or [] if key(a) not in seen]
