"""The map as a table (lanes × stages) for CSV, XLSX and Markdown, plus Mermaid text.

Spreadsheet safety: a text cell beginning with ``=``, ``+``, ``-``, ``@`` (or a tab or
carriage return) is prefixed with ``'`` so no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import html
import re

from journeymap.render.metrics import fmt_number
from journeymap.render.view import KpiView, MapView, StageView

Cell = str | int | float | None
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Cell) -> Cell:
    """Text that a spreadsheet would read as a formula, made inert with a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def signed(value: float) -> str:
    """+1, 0, −0.5 (a real minus sign: it reads better and is never a formula)."""
    return f"{value:+.2g}".replace("-", "\u2212")


def kpi_text(k: KpiView) -> str:
    now = fmt_number(k.actual.value, k.kpi.unit) if k.actual else "no data"
    text = f"{k.name}: {now}"
    if k.actual and k.actual.interval_text():
        text += f" ({k.actual.interval_text()})"
    if k.actual and k.actual.n:
        text += f" n={k.actual.n:,}"
    if k.kpi.target is not None:
        text += f" / target {fmt_number(k.kpi.target, k.kpi.unit)}"
    return text


def emotion_text(s: StageView) -> str:
    e = s.emotion
    if e.value is None:
        return e.note or e.label
    source = f"measured, n={e.n:,}" if e.measured and e.n else e.kind
    return f"{signed(e.value)} {e.label} ({source})".replace("  ", " ")


def touchpoint_text(s: StageView) -> str:
    parts = []
    for t in s.touchpoints:
        text = f"{t.tp.name} [{t.tp.channel}{', ' + t.tp.owner if t.tp.owner else ''}]"
        if t.tp.visibility == "backstage":
            text += " (backstage)"
        if t.customers is not None:
            text += f" {t.customers:,} customers"
        for name, m in t.metrics:
            text += f"; {name.upper()} {m.text()}" + (f" n={m.n:,}" if m.n else "")
        parts.append(text)
    return "\n".join(parts)


def map_table(view: MapView) -> list[list[Cell]]:
    """Header row (lane, stage names…) then one row per lane; cells hold newline-joined items."""
    stages = view.stages
    table: list[list[Cell]] = [["Lane", *[s.stage.name for s in stages]]]
    if any(s.customers is not None for s in stages):
        table.append(["Customers reached", *[s.customers for s in stages]])
        table.append(["Share of customers", *[round(s.share, 4) if s.share is not None else None for s in stages]])
    if any(s.conversion_to_next is not None for s in stages):
        table.append(["Reach the next stage",
                      *[round(s.conversion_to_next, 4) if s.conversion_to_next is not None else None for s in stages]])

    def lane(name: str, items: list[str]) -> None:
        if any(items):
            table.append([name, *items])

    lanes = [s.stage.lanes for s in stages]
    lane("Customer actions", ["\n".join(c.text for c in ln.actions) for ln in lanes])
    lane("Goals", ["\n".join(c.text for c in ln.goals) for ln in lanes])
    lane("Touchpoints", [touchpoint_text(s) for s in stages])
    lane("Thoughts", ["\n".join(c.text for c in ln.thoughts) for ln in lanes])
    lane("Emotion", [emotion_text(s) if s.emotion.value is not None or s.stage.lanes.emotion else "" for s in stages])
    lane("Pain points", ["\n".join([c.text for c in s.stage.lanes.pain_points] + s.data_pains) for s in stages])
    lane("Opportunities", ["\n".join(c.text for c in ln.opportunities) for ln in lanes])
    lane("KPIs", ["\n".join(kpi_text(k) for k in s.kpis) for s in stages])
    lane("Owners", ["\n".join(c.text for c in ln.owners) for ln in lanes])
    lane("Backstage", ["\n".join(c.text for c in ln.backstage) for ln in lanes])
    for custom in view.jmap.custom_lanes:
        lane(custom.name, ["\n".join(c.text for c in ln.custom.get(custom.id, [])) for ln in lanes])
    return table


def safe_table(view: MapView) -> list[list[Cell]]:
    return [[neutralise(c) for c in row] for row in map_table(view)]


def _md(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return _esc(value).replace("|", "\\|").replace("\n", "<br>")


def _esc(text: str) -> str:
    """User text as Markdown text: HTML in it (``<script>``, ``<img onerror=...>``)
    shows as text in a wiki instead of running — Markdown passes raw HTML through."""
    return html.escape(text, quote=False)


def markdown(view: MapView) -> str:
    """The map for a wiki: title, persona, goal, the lane table, the data notes."""
    m = view.jmap
    e = _esc
    lines = [f"# {e(m.title)}", "", f"*{m.type.value.replace('_', ' ')} map* · `{m.id}`", ""]
    if m.scope:
        lines += [f"**Scope:** {e(m.scope)}", ""]
    lines += [f"**Persona:** {e(m.persona.name)}"
              + (f" — {e(m.persona.description)}" if m.persona.description else ""), ""]
    if m.persona.quote:
        lines += [f"> {e(m.persona.quote)}", ""]
    lines += [f"**Scenario:** {e(m.scenario.strip())}", "", f"**Goal:** {e(m.goal.statement)}"]
    if m.goal.kpi:
        k = m.goal.kpi
        now = fmt_number(view.goal_actual.value, k.unit) if view.goal_actual else "no data yet"
        lines.append(f"({e(k.name or k.metric)}: baseline {fmt_number(k.baseline, k.unit)}, now {now}, "
                     f"target {fmt_number(k.target, k.unit)}{f' by {k.deadline}' if k.deadline else ''})")
    lines.append("")
    table = map_table(view)
    lines.append("| " + " | ".join(_md(c) for c in table[0]) + " |")
    lines.append("|" + "---|" * len(table[0]))
    for row in table[1:]:
        lines.append("| **" + _md(row[0]) + "** | " + " | ".join(_md(c) for c in row[1:]) + " |")
    unmatched = view.analysis.get("unmatched")
    if view.has_data:
        total = view.analysis.get("segment_customers") or view.analysis.get("customers")
        lines += ["", f"Data: {total or 0:,} customers"
                  + (f", {view.analysis['events']:,} events" if view.analysis.get("events") is not None else "")
                  + (f", {unmatched['events']:,} events matched no touchpoint" if isinstance(unmatched, dict)
                     and unmatched.get("events") else "") + "."]
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # no HTML either: Mermaid draws labels as HTML
    return re.sub(r"[:;#\n<>&]+", " ", text).strip() or "-"


def mermaid(view: MapView) -> str:
    """A Mermaid ``journey`` diagram: sections are stages, tasks are touchpoints (or
    actions), scored 1–5 from the stage's emotion (−2…+2; 3 where unknown)."""
    actor = _mermaid_text(view.jmap.persona.name.split(",")[0])
    lines = ["journey", f"    title {_mermaid_text(view.jmap.title)}"]
    for s in view.stages:
        score = 3 if s.emotion.value is None else max(1, min(5, round(s.emotion.value + 3)))
        lines.append(f"    section {_mermaid_text(s.stage.name)}")
        tasks = [t.tp.name for t in s.touchpoints] or [c.text for c in s.stage.lanes.actions] or [s.stage.name]
        for task in tasks:
            lines.append(f"      {_mermaid_text(task)}: {score}: {actor}")
    return "\n".join(lines) + "\n"
