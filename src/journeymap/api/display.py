"""What a notebook shows: charts, the map page and an analysis summary, as HTML.

Jupyter (and VS Code, Colab, nbconvert) call ``_repr_html_`` on the last value of a
cell.  The charts are the page's own SVG (nothing fetched, every text escaped); the map
page goes into an ``<iframe srcdoc>`` with an empty ``sandbox``, so its styles cannot
leak into the notebook and nothing in it can run.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeymap.model.document import JourneyMap
from journeymap.render import chartset
from journeymap.render.view import MapView, build_view, pain_text

#: the height of the map page's frame in a notebook (it scrolls inside)
PAGE_HEIGHT = 720


@dataclass(frozen=True)
class Chart:
    """One chart of a map: its title, caption and SVG (``.svg``); shown inline in a
    notebook, ``save("x.svg")`` (or ``.html``) writes it."""

    id: str
    title: str
    caption: str
    svg: str

    @classmethod
    def of(cls, chart: chartset.Chart) -> Chart:
        """The notebook's form of a chart of the page."""
        return cls(chart.id, chart.title, chart.caption, chart.svg)

    def _repr_html_(self) -> str:
        return (f'<figure style="margin:0;max-width:100%;overflow-x:auto">'
                f'<figcaption style="font:14px sans-serif;margin:0 0 6px"><b>{html.escape(self.title)}</b>'
                f' — {html.escape(self.caption)}</figcaption>{self.svg}</figure>')

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the chart as SVG (``.svg``) or as an HTML figure (``.html``)."""
        out = Path(path)
        if out.suffix.lower() not in (".svg", ".html"):
            from journeymap.errors import JourneymapError

            raise JourneymapError(f"{out}: a chart is saved as .svg or .html")
        text = self.svg if out.suffix.lower() == ".svg" else (
            f"<!doctype html><meta charset=utf-8><title>{html.escape(self.title)}</title>{self._repr_html_()}")
        out.write_text(text, encoding="utf-8")
        return out

    def __repr__(self) -> str:
        return f"Chart({self.id!r}, {self.title!r})"


@dataclass(frozen=True)
class MapPage:
    """The map page (the HTML of ``journeymap render``, self-contained): inline in a
    notebook in a sandboxed frame, ``.html`` the page, ``save(path)`` writes it."""

    title: str
    html: str

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="" '
                f'title="{html.escape(self.title, quote=True)}" '
                f'style="width:100%;height:{PAGE_HEIGHT}px;border:1px solid #d9e2ec;border-radius:4px">'
                f'</iframe>')

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page's HTML to ``path``."""
        out = Path(path)
        out.write_text(self.html, encoding="utf-8")
        return out

    def __repr__(self) -> str:
        return f"MapPage({self.title!r}, {len(self.html):,} characters)"


def map_page(jmap: JourneyMap, analysis: Mapping[str, Any] | None, source: str | None = None) -> MapPage:
    from journeymap.render.page import render_map_html

    return MapPage(jmap.title, render_map_html(jmap, analysis, source=source))


#: the charts of :func:`journeymap.render.chartset.map_charts`, by the name a notebook asks for
CHARTS = {"emotion": chartset.emotion, "funnel": chartset.funnel, "outcome_paths": chartset.outcome_paths,
          "sankey": chartset.sankey, "trend": chartset.trend}


def chart(view: MapView, name: str) -> Chart | None:
    found = CHARTS[name](view)
    return Chart.of(found) if found is not None else None


def compare(left: MapView, right: MapView, labels: tuple[str, str]) -> Chart:
    """``right``'s stage reach beside ``left``'s (two segments, periods or maps)."""
    found = chartset.segments(right, left, labels=labels)
    assert found is not None  # segments() with a view to compare always draws
    return Chart.of(found)


def summary_html(view: MapView, sections: Sequence[str], *, top: int = 5) -> str:
    """An analysis at a glance: the map and its scope, the funnel, the top pain points."""
    a = view.analysis
    scope = a.get("scope") if isinstance(a.get("scope"), Mapping) else {}
    e = html.escape
    parts = [f'<div style="font:14px sans-serif;max-width:100%">'
             f'<h3 style="margin:0 0 4px">{e(view.jmap.title)} <small style="color:#616e7c">'
             f'({e(view.jmap.id)})</small></h3>']
    facts = [f"{int(scope[k]):,} {label}" for k, label in (("customers", "customers"), ("events", "events"))
             if isinstance(scope.get(k), (int, float))]
    for k, label in (("segment", "segment"), ("persona_segment", "persona"), ("since", "since"), ("until", "until")):
        if scope.get(k):
            facts.append(f"{label}: {scope[k]}")
    parts.append(f'<p style="margin:0 0 8px;color:#616e7c">{e(" · ".join(facts))}</p>')
    for notice in scope.get("notices") or []:
        parts.append(f'<p style="margin:0 0 8px;color:#b7791f">note: {e(str(notice))}</p>')
    funnel = chart(view, "funnel")
    if funnel is not None:
        parts.append(funnel._repr_html_())
    pains = [p for p in a.get("pain_points") or [] if isinstance(p, Mapping)]
    if pains:
        names = {t.id: t.name for t in view.jmap.touchpoints} | {s.id: s.name for s in view.jmap.stages}
        items = "".join(f"<li>{e(pain_text(p, names))}</li>" for p in pains[:top])  # type: ignore[arg-type]
        parts.append(f'<h4 style="margin:12px 0 4px">Top pain points</h4><ol style="margin:0">{items}</ol>')
    listed = ", ".join(k for k in sections if k not in ("map", "scope"))
    parts.append(f'<p style="margin:8px 0 0;color:#616e7c">Sections: {e(listed)}. Each is a DataFrame: '
                 f'<code>analysis.stages</code>, <code>analysis.pain_points</code>, … '
                 f'(<code>analysis.tables()</code>).</p></div>')
    return "".join(parts)


class NotebookBar:
    """The library's ``progress(description, done, total)`` as one bar in a notebook's
    output, updated in place (IPython's ``display_id``) at most every
    :data:`BAR_INTERVAL` seconds; what it showed last stays in the saved notebook."""

    def __init__(self) -> None:
        self._handle: Any = None
        self._shown = (None, 0.0)

    def __call__(self, description: str, done: int, total: int | None) -> None:
        import time

        from IPython.display import HTML, display

        now = time.monotonic()
        finished = total is not None and done >= total
        if self._shown[0] == description and not finished and now - self._shown[1] < BAR_INTERVAL:
            return
        self._shown = (description, now)
        count = f"{done:,}" + (f" / {total:,}" if total else "")
        bar = (f'<progress value="{done}" max="{total}"></progress>' if total else "<progress></progress>")
        body = HTML(f'<div style="font:12px sans-serif;color:#616e7c">{bar} {html.escape(description)} · '
                    f'{count}</div>')
        if self._handle is None:
            self._handle = display(body, display_id=True)
        else:
            self._handle.update(body)


BAR_INTERVAL = 0.25


def table_html(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A small HTML table (escaped) of ``columns`` of ``rows``."""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{e(_cell(r.get(c)))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def view_of(jmap: JourneyMap, analysis: Mapping[str, Any]) -> MapView:
    return build_view(jmap, analysis)
