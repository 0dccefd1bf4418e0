"""Charts as hand-written SVG: funnel, Sankey, paths, emotion curve, KPI trend, comparisons.

SVG rather than a JavaScript library: the same markup goes inline into the page, into
``--out chart.svg`` files, into the PNG and PDF (through Chromium), and prints sharply
on A3.  Nothing is fetched; every text is escaped.  Each function takes plain data and
returns one ``<svg>`` document with its own fonts and sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
INK, MUTED, LINE, ACCENT = "#1f2933", "#616e7c", "#d9e2ec", "#2f5d8a"
GOOD, BAD, WARN, GREY = "#2f855a", "#c53030", "#b7791f", "#a0aec0"
SERIES = (ACCENT, "#dd6b20", "#2c7a7b", "#805ad5", "#b83280")


def _svg(width: float, height: float, body: str, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" font-family="{FONT}" font-size="12" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>{body}</svg>')


def _text(x: float, y: float, s: str, *, anchor: str = "start", size: int = 12, fill: str = INK,
          weight: str = "normal", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}"{c}>{escape(s)}</text>')


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.0f} %"


@dataclass
class FunnelStep:
    name: str
    customers: int
    leavers_went: list[tuple[str, int]] = field(default_factory=list)


def funnel_chart(steps: Sequence[FunnelStep], *, basis: str = "customers reaching each stage") -> str:
    """Bars per step, share of the first step, conversion and drop-off between steps."""
    width, label_w, bar_w, row_h, gap = 860, 190, 430, 30, 30
    top = max((s.customers for s in steps), default=0) or 1
    first = steps[0].customers if steps else 0
    body, y = [], 28
    body.append(_text(0, 14, f"Funnel — {basis}", size=12, fill=MUTED))
    for i, step in enumerate(steps):
        w = max(2.0, bar_w * step.customers / top)
        x = label_w + (bar_w - w) / 2
        body.append(_text(label_w - 10, y + row_h / 2 + 4, _short(step.name, 26), anchor="end", weight="bold"))
        body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h}" rx="3" fill="{ACCENT}"/>')
        share = step.customers / first if first else None
        body.append(_text(label_w + bar_w + 12, y + row_h / 2 + 4,
                          f"{step.customers:,} customers · {_pct(share)} of first step", fill=INK))
        y += row_h
        if i + 1 < len(steps):
            nxt = steps[i + 1].customers
            conv = nxt / step.customers if step.customers else None
            lost = step.customers - nxt
            note = f"↓ {_pct(conv)} continue"
            if lost > 0:
                note += f" · {lost:,} left"
                if step.leavers_went:
                    went = ", ".join(f"{_short(d, 22)} {n:,}" for d, n in step.leavers_went[:3])
                    note += f" → went to: {went}"
            color = BAD if conv is not None and conv < 0.5 else MUTED
            body.append(_text(label_w + bar_w / 2, y + gap / 2 + 5, note, anchor="middle", size=11, fill=color))
            y += gap
    return _svg(width, y + 10, "".join(body), "funnel")


def sankey_chart(columns: Sequence[Sequence[str]], labels: dict[str, str],
                 links: Sequence[tuple[str, str, int]], *, title: str = "paths") -> str:
    """Flows between nodes placed in columns (stages in order); backward flows are counted."""
    col_of = {n: i for i, col in enumerate(columns) for n in col}
    forward = [(s, t, v) for s, t, v in links if s in col_of and t in col_of and col_of[t] > col_of[s] and v > 0]
    loops = sum(v for s, t, v in links if (s, t, v) not in forward)
    nodes_in: dict[str, int] = {}
    nodes_out: dict[str, int] = {}
    for s, t, v in forward:
        nodes_out[s] = nodes_out.get(s, 0) + v
        nodes_in[t] = nodes_in.get(t, 0) + v
    size = {n: max(nodes_in.get(n, 0), nodes_out.get(n, 0)) for n in col_of}
    cols = [[n for n in col if size[n] > 0] for col in columns]
    ncols = max(len(cols), 1)
    width, height, pad, node_w = 980, 380, 12, 12
    left, right = 10, 170
    col_x = [left + i * (width - left - right) / max(ncols - 1, 1) for i in range(ncols)]
    busiest = max((sum(size[n] for n in col) + pad * (len(col) - 1) for col in cols if col), default=1)
    scale = (height - 40) / busiest if busiest else 1
    pos: dict[str, list[float]] = {}
    for i, col in enumerate(cols):
        y = 30.0
        for n in col:
            pos[n] = [col_x[i], y, size[n] * scale, 0.0, 0.0]  # x, y, h, out offset, in offset
            y += size[n] * scale + pad
    body = [_text(0, 14, f"Flows between {title} (forward moves; width = customers)", fill=MUTED)]
    for s, t, v in sorted(forward, key=lambda link: -link[2]):
        sx, sy, _, so, _ = pos[s]
        tx, ty, _, _, ti = pos[t]
        h = v * scale
        y0, y1 = sy + so + h / 2, ty + ti + h / 2
        pos[s][3] += h
        pos[t][4] += h
        x0, x1 = sx + node_w, tx
        mid = (x0 + x1) / 2
        body.append(f'<path d="M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}" '
                    f'fill="none" stroke="{ACCENT}" stroke-opacity="0.28" stroke-width="{max(h, 1):.1f}">'
                    f'<title>{escape(labels.get(s, s))} → {escape(labels.get(t, t))}: {v:,}</title></path>')
    for n, (x, y, h, _, _) in pos.items():
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{node_w}" height="{max(h, 1):.1f}" fill="{INK}"/>')
        body.append(_text(x + node_w + 4, y + min(h, 24) / 2 + 4,
                          f"{_short(labels.get(n, n), 24)} {size[n]:,}", size=11))
    if loops:
        body.append(_text(0, height - 4, f"{loops:,} moves back or within a stage are not drawn", size=11, fill=MUTED))
    return _svg(width, height, "".join(body), f"Sankey of {title}")


@dataclass
class PathGroup:
    title: str  # "Completed the funnel", ...
    customers: int
    paths: list[tuple[list[str], float, int]]  # steps, share of the group, customers


def paths_chart(groups: Sequence[PathGroup], *, top: int = 5) -> str:
    """The most common paths of each group as rows of step chips, a bar for the share."""
    width, bar_w, chip_w, chip_h, row_h = 980, 110, 118, 24, 32
    x0 = bar_w + 70
    body, y = [], 4
    for g in groups:
        body.append(_text(0, y + 14, f"{g.title} — {g.customers:,} customers", weight="bold"))
        y += 26
        if not g.paths:
            body.append(_text(0, y + 14, "no customers", fill=MUTED))
            y += row_h
        for steps, share, n in g.paths[:top]:
            w = max(2.0, bar_w * share)
            body.append(f'<rect x="0" y="{y + 6}" width="{bar_w}" height="{chip_h - 12}" fill="{LINE}"/>')
            body.append(f'<rect x="0" y="{y + 6}" width="{w:.1f}" height="{chip_h - 12}" fill="{ACCENT}">'
                        f'<title>{n:,} customers</title></rect>')
            body.append(_text(bar_w + 6, y + chip_h / 2 + 4, _pct(share), size=11, fill=MUTED))
            for i, step in enumerate(steps[:7]):
                x = x0 + i * (chip_w + 10)
                end = step == "End of journey"
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{chip_w}" height="{chip_h}" rx="11" '
                            f'fill="{"#ffffff" if end else "#edf2f7"}" stroke="{LINE}"/>')
                body.append(_text(x + chip_w / 2, y + chip_h / 2 + 4, _short(step, 17), anchor="middle",
                                  size=11, fill=MUTED if end else INK))
                if i:
                    body.append(_text(x - 5, y + chip_h / 2 + 4, "›", anchor="middle", fill=MUTED))
            y += row_h
        y += 10
    return _svg(width, y, "".join(body), "paths of customers who completed and who dropped out")


@dataclass
class EmotionSeries:
    name: str
    values: list[float | None]
    measured: list[bool]
    n: list[int | None]
    low: list[float | None]
    high: list[float | None]
    labels: list[str]
    color: str = ACCENT


def _emotion_color(v: float) -> str:
    return BAD if v <= -0.5 else GOOD if v >= 0.5 else WARN


def emotion_chart(stage_names: Sequence[str], series: Sequence[EmotionSeries]) -> str:
    """The emotion curve from −2 to +2; filled points are measured (with n and interval),
    hollow points on dashed lines are assumptions."""
    width, height, left, top, bottom = 900, 250, 70, 24, 40
    n = max(len(stage_names), 1)
    xs = [left + (i + 0.5) * (width - left) / n for i in range(n)]

    def ys(v: float) -> float:
        return top + (2 - v) * (height - top - bottom) / 4

    body = []
    for v, name in ((2, "+2 delighted"), (0, "0 neutral"), (-2, "−2 upset")):
        dash = ' stroke-dasharray="4 4"' if v == 0 else ""
        body.append(f'<line x1="{left}" x2="{width}" y1="{ys(v):.1f}" y2="{ys(v):.1f}" stroke="{LINE}"{dash}/>')
        body.append(_text(left - 6, ys(v) + 4, name, anchor="end", size=10, fill=MUTED))
    for x, name in zip(xs, stage_names, strict=False):
        body.append(_text(x, height - 12, _short(name, 22), anchor="middle", size=11, weight="bold"))
    for s in series:
        pts = [(xs[i], v, s.measured[i]) for i, v in enumerate(s.values) if v is not None and i < n]
        for (x0, v0, m0), (x1, v1, m1) in zip(pts, pts[1:], strict=False):
            dash = "" if m0 and m1 else ' stroke-dasharray="6 5"'
            body.append(f'<line x1="{x0:.1f}" y1="{ys(v0):.1f}" x2="{x1:.1f}" y2="{ys(v1):.1f}" '
                        f'stroke="{s.color}" stroke-width="2.5"{dash}/>')
        for i, v in enumerate(s.values):
            if v is None or i >= n:
                continue
            x, y, c = xs[i], ys(v), _emotion_color(v)
            lo, hi = s.low[i], s.high[i]
            if lo is not None and hi is not None:
                body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{ys(max(-2, lo)):.1f}" y2="{ys(min(2, hi)):.1f}" '
                            f'stroke="{c}" stroke-width="1.5"/>')
            fill = c if s.measured[i] else "#fff"
            kind = f"measured, n={s.n[i]:,}" if s.measured[i] and s.n[i] else ("measured" if s.measured[i] else "assumption")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{fill}" stroke="{c}" stroke-width="2.5">'
                        f'<title>{escape(s.name)} · {escape(stage_names[i])}: {v:+.2g} ({kind})</title></circle>')
            caption = f"{v:+.2g} {s.labels[i]}".strip()
            if s.measured[i] and s.n[i]:
                caption += f" · n={s.n[i]:,}"
            elif not s.measured[i]:
                caption += " · assumed"
            body.append(_text(x, y - 13 if v < 1.5 else y + 22, _short(caption, 30), anchor="middle", size=10, fill=MUTED))
    if len(series) > 1:  # each entry as wide as its (shortened) name: long titles never overlap
        x = float(left)
        for s in series:
            name = _short(s.name, 48)
            body.append(f'<rect x="{x:.0f}" y="2" width="14" height="4" fill="{s.color}"/>')
            body.append(_text(x + 20, 9, name, size=11))
            x += 20 + 6.6 * len(name) + 24
    return _svg(width, height, "".join(body), "emotion curve")


@dataclass
class TrendPoint:
    period: str
    value: float
    n: int | None = None
    low: float | None = None
    high: float | None = None


def trend_chart(series: dict[str, list[TrendPoint]], targets: dict[str, float]) -> str:
    """One small chart per KPI over time, with its 95 % band and its target (dashed)."""
    cell_w, cell_h, per_row = 300, 170, 3
    names = [k for k, pts in series.items() if pts]
    rows_n = max(1, -(-len(names) // per_row))
    body = []
    for j, name in enumerate(names):
        pts = series[name]
        ox, oy = (j % per_row) * cell_w, (j // per_row) * cell_h
        # the axis fits the values and the target, and the bands as far as half that span
        # again: a month with two answers has an interval wider than the scale itself
        core = [p.value for p in pts] + ([targets[name]] if name in targets else [])
        lo, hi = min(core), max(core)
        if hi == lo:
            lo, hi = lo - 1, hi + 1
        reach = (hi - lo) / 2
        lo = min([lo] + [max(p.low, lo - reach) for p in pts if p.low is not None])
        hi = max([hi] + [min(p.high, hi + reach) for p in pts if p.high is not None])
        x0, x1, y0, y1 = ox + 40, ox + cell_w - 16, oy + 30, oy + cell_h - 30

        def px(i: int, x0: float = x0, x1: float = x1, count: int = len(pts)) -> float:
            return x0 + (x1 - x0) * (i / max(count - 1, 1))

        def py(v: float, lo: float = lo, hi: float = hi, y0: float = y0, y1: float = y1) -> float:
            return y1 - (v - lo) / (hi - lo) * (y1 - y0)

        body.append(_text(ox + 40, oy + 16, name.upper(), weight="bold", size=12))
        body.append(f'<line x1="{x0}" x2="{x1}" y1="{y1}" y2="{y1}" stroke="{LINE}"/>')
        band = [(px(i), py(min(p.high, hi))) for i, p in enumerate(pts) if p.high is not None and p.low is not None]
        band += [(px(i), py(max(p.low, lo))) for i, p in reversed(list(enumerate(pts)))
                 if p.high is not None and p.low is not None]
        if band:
            body.append(f'<polygon points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in band)}" fill="{ACCENT}" fill-opacity="0.12"/>')
        line = " ".join(f"{px(i):.1f},{py(p.value):.1f}" for i, p in enumerate(pts))
        body.append(f'<polyline points="{line}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
        for i, p in enumerate(pts):
            body.append(f'<circle cx="{px(i):.1f}" cy="{py(p.value):.1f}" r="2.5" fill="{ACCENT}">'
                        f'<title>{escape(p.period)}: {p.value:.3g}{f" (n={p.n:,})" if p.n else ""}</title></circle>')
        if name in targets:
            t = targets[name]
            body.append(f'<line x1="{x0}" x2="{x1}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="{GOOD}" stroke-dasharray="5 4"/>')
            body.append(_text(x1, py(t) - 4, f"target {t:g}", anchor="end", size=10, fill=GOOD))
        for v in (lo, hi):
            body.append(_text(x0 - 4, py(v) + 4, f"{v:.3g}", anchor="end", size=10, fill=MUTED))
        body.append(_text(x0, y1 + 14, pts[0].period, size=10, fill=MUTED))
        body.append(_text(x1, y1 + 14, pts[-1].period, anchor="end", size=10, fill=MUTED))
    return _svg(per_row * cell_w, rows_n * cell_h, "".join(body), "KPI trend")


def compare_chart(stage_names: Sequence[str], left: tuple[str, Sequence[float | None]],
                  right: tuple[str, Sequence[float | None]], *, measure: str = "share of customers reaching the stage",
                  as_percent: bool = True, threshold: float = 0.05) -> str:
    """Two series side by side per stage; differences beyond ``threshold`` highlighted."""
    width, label_w, bar_w, row_h = 860, 190, 420, 44
    values = [v for v in list(left[1]) + list(right[1]) if v is not None]
    top = max([abs(v) for v in values] + [1e-9])
    body = [_text(0, 14, f"{left[0]} vs {right[0]} — {measure}", fill=MUTED)]
    for j, (name, color) in enumerate(((left[0], GREY), (right[0], ACCENT))):
        body.append(f'<rect x="{label_w + j * 200}" y="22" width="12" height="12" fill="{color}"/>')
        body.append(_text(label_w + j * 200 + 18, 32, _short(name, 26), size=11))
    y = 44
    for i, stage in enumerate(stage_names):
        a = left[1][i] if i < len(left[1]) else None
        b = right[1][i] if i < len(right[1]) else None
        body.append(_text(label_w - 10, y + row_h / 2 + 2, _short(stage, 26), anchor="end", weight="bold"))
        for k, (v, color) in enumerate(((a, GREY), (b, ACCENT))):
            yy = y + 4 + k * 18
            if v is None:
                body.append(_text(label_w, yy + 12, "no data", size=10, fill=MUTED))
                continue
            w = max(1.0, bar_w * abs(v) / top)
            body.append(f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="15" rx="2" fill="{color}"/>')
            body.append(_text(label_w + w + 6, yy + 12, _pct(v) if as_percent else f"{v:+.2g}", size=11))
        if a is not None and b is not None:
            diff = b - a
            big = abs(diff) >= threshold
            txt = (f"{diff * 100:+.0f} pp" if as_percent else f"{diff:+.2g}")
            body.append(_text(width - 10, y + row_h / 2 + 4, txt, anchor="end",
                              weight="bold" if big else "normal",
                              fill=(GOOD if diff > 0 else BAD) if big else MUTED, cls="diff"))
        y += row_h
    return _svg(width, y + 8, "".join(body), f"{left[0]} vs {right[0]}")


@dataclass
class SegmentSeries:
    name: str
    customers: int
    shares: list[float | None]  # per stage: share of the segment's customers reaching it


def segment_funnel_chart(stage_names: Sequence[str], series: Sequence[SegmentSeries], *,
                         attribute: str = "segment") -> str:
    """The stage funnel of several segments at once: one line per segment across the
    stages, the share of its customers reaching each; legend with each segment's n."""
    width, height, left, right, top, bottom = 860, 320, 56, 200, 30, 46
    shown = list(series)[: len(SERIES)]
    x1, y1 = width - right, height - bottom
    n = max(len(stage_names), 1)

    def px(i: int) -> float:
        return left + (x1 - left) * (i / max(n - 1, 1)) if n > 1 else (left + x1) / 2

    def py(v: float) -> float:
        return y1 - v * (y1 - top)

    body = [_text(0, 14, f"Share of each {attribute} value's customers reaching each stage", fill=MUTED)]
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(f'<line x1="{left}" x2="{x1}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="{LINE}"/>')
        body.append(_text(left - 6, py(v) + 4, _pct(v), anchor="end", size=10, fill=MUTED))
    for i, name in enumerate(stage_names):
        body.append(_text(px(i), y1 + 18, _short(name, 18), anchor="middle", size=11, weight="bold"))
    for k, s in enumerate(shown):
        color = SERIES[k % len(SERIES)]
        pts = [(px(i), py(v), v) for i, v in enumerate(s.shares) if v is not None]
        if len(pts) > 1:
            body.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y, _ in pts)}" fill="none" '
                        f'stroke="{color}" stroke-width="2.5"/>')
        for (x, y, v), stage in zip(pts, [st for st, v in zip(stage_names, s.shares) if v is not None]):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"><title>{escape(s.name)} · '
                        f'{escape(stage)}: {_pct(v)}</title></circle>')
        ly = top + k * 22
        body.append(f'<rect x="{x1 + 20}" y="{ly}" width="12" height="12" fill="{color}"/>')
        body.append(_text(x1 + 38, ly + 11, f"{_short(s.name, 16)} (n={s.customers:,})", size=11))
    if len(series) > len(shown):
        body.append(_text(x1 + 20, top + len(shown) * 22 + 11, f"+{len(series) - len(shown)} more in the table",
                          size=10, fill=MUTED))
    return _svg(width, height, "".join(body), f"stage funnel by {attribute}")
