"""PPTX: an overview slide (persona, goal, every stage with its emotion and reach) and
one slide per stage (touchpoints with their numbers, lanes, KPIs against target)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from journeymap.render.browser import ExportDependencyError
from journeymap.render.tables import emotion_text, kpi_text, signed
from journeymap.render.view import MapView, StageView

ACCENT, MUTED, BAD, GOOD, WARN = (0x2F, 0x5D, 0x8A), (0x61, 0x6E, 0x7C), (0xC5, 0x30, 0x30), (0x2F, 0x85, 0x5A), (0xB7, 0x79, 0x1F)


def _pptx() -> Any:
    try:
        import pptx
    except ModuleNotFoundError:
        raise ExportDependencyError("PPTX export needs python-pptx: pip install 'journeymap[export]'") from None
    return pptx


def _box(slide: Any, x: float, y: float, w: float, h: float, lines: list[tuple[str, dict[str, Any]]]) -> Any:
    pptx = _pptx()
    from pptx.util import Inches, Pt

    shape = slide.shapes.add_textbox(Inches(x), Inches(y), Inches(w), Inches(h))
    frame = shape.text_frame
    frame.word_wrap = True
    for i, (text, style) in enumerate(lines):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = para.add_run()
        run.text = text
        run.font.size = Pt(style.get("size", 12))
        run.font.bold = style.get("bold", False)
        run.font.italic = style.get("italic", False)
        if "color" in style:
            run.font.color.rgb = pptx.dml.color.RGBColor(*style["color"])
    return shape


def _emotion_color(value: float | None) -> tuple[int, int, int]:
    if value is None:
        return MUTED
    return BAD if value <= -0.5 else GOOD if value >= 0.5 else WARN


def _overview(prs: Any, view: MapView) -> None:
    from pptx.util import Inches

    m = view.jmap
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _box(slide, 0.4, 0.3, 12.5, 0.8, [(m.title, {"size": 28, "bold": True}),
                                        (m.scope or m.type.value.replace("_", " "), {"size": 13, "color": MUTED})])
    goal = [(f"Goal: {m.goal.statement}", {"size": 14, "bold": True})]
    if m.goal.kpi:
        k = m.goal.kpi
        now = f"{view.goal_actual.value:.3g}" if view.goal_actual else "no data yet"
        goal.append((f"{k.name or k.metric}: baseline {k.baseline if k.baseline is not None else '–'} · "
                     f"now {now} · target {k.target:g}", {"size": 12, "color": MUTED}))
    _box(slide, 0.4, 1.35, 7.4, 1.0, goal)
    persona = [(f"Persona: {m.persona.name}", {"size": 14, "bold": True})]
    if m.persona.quote:
        persona.append((f"“{m.persona.quote}”", {"size": 12, "italic": True, "color": MUTED}))
    _box(slide, 8.0, 1.35, 5.0, 1.0, persona)
    n = len(view.stages)
    width = 12.5 / n
    for s in view.stages:
        x = 0.4 + s.index * width
        head = slide.shapes.add_shape(1, Inches(x), Inches(2.6), Inches(width - 0.1), Inches(0.6))
        head.fill.solid()
        head.fill.fore_color.rgb = _pptx().dml.color.RGBColor(*ACCENT)
        head.line.fill.background()
        head.text_frame.text = s.stage.name
        lines: list[tuple[str, dict[str, Any]]] = []
        if s.customers is not None:
            share = f" ({s.share * 100:.0f} %)" if s.share is not None else ""
            lines.append((f"{s.customers:,} customers{share}", {"size": 12, "bold": True}))
        lines.append((emotion_text(s), {"size": 12, "color": _emotion_color(s.emotion.value)}))
        lines += [(f"• {t.tp.name} ({t.tp.channel})", {"size": 10}) for t in s.touchpoints[:6]]
        lines += [(f"✕ {c.text}", {"size": 10, "color": BAD}) for c in s.stage.lanes.pain_points[:3]]
        _box(slide, x, 3.3, width - 0.1, 3.9, lines)


def _stage_slide(prs: Any, view: MapView, s: StageView) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    word = f"Stage {s.index + 1} of {len(view.stages)}"
    title = [(f"{word}: {s.stage.name}", {"size": 26, "bold": True})]
    if s.stage.description or s.stage.time:
        title.append((" · ".join(x for x in (s.stage.time, s.stage.description) if x), {"size": 13, "color": MUTED}))
    _box(slide, 0.4, 0.3, 12.5, 0.9, title)
    facts: list[tuple[str, dict[str, Any]]] = []
    if s.customers is not None:
        facts.append((f"{s.customers:,} customers reached", {"size": 16, "bold": True}))
    if s.conversion_to_next is not None:
        facts.append((f"{s.conversion_to_next * 100:.0f} % reach the next stage", {"size": 12}))
    facts.append((f"Emotion {emotion_text(s)}", {"size": 13, "color": _emotion_color(s.emotion.value)}))
    _box(slide, 0.4, 1.3, 6.0, 1.0, facts)
    tps: list[tuple[str, dict[str, Any]]] = [("Touchpoints", {"size": 14, "bold": True, "color": ACCENT})]
    for t in s.touchpoints:
        text = f"{t.tp.name} — {t.tp.channel}{', ' + t.tp.owner if t.tp.owner else ''}"
        if t.customers is not None:
            text += f": {t.customers:,} customers"
        for name, mm in t.metrics:
            text += f"; {name.upper()} {mm.text()}" + (f" ({mm.interval_text()}, n={mm.n:,})" if mm.n else "")
        tps.append((text, {"size": 11}))
    tps.append(("KPIs vs target", {"size": 14, "bold": True, "color": ACCENT}))
    tps += [(kpi_text(k), {"size": 11, "color": {"good": GOOD, "bad": BAD, "mid": WARN}.get(k.status, MUTED)})
            for k in s.kpis] or [("none set", {"size": 11, "color": MUTED})]
    _box(slide, 0.4, 2.4, 6.2, 4.8, tps)
    lanes = s.stage.lanes
    right: list[tuple[str, dict[str, Any]]] = []
    for name, cells, color in (("Customer actions", lanes.actions, None), ("Thoughts", lanes.thoughts, MUTED),
                               ("Pain points", lanes.pain_points, BAD), ("Opportunities", lanes.opportunities, GOOD),
                               ("Backstage", lanes.backstage, MUTED)):
        if cells:
            right.append((name, {"size": 14, "bold": True, "color": ACCENT}))
            right += [(f"• {c.text}", {"size": 11, **({"color": color} if color else {})}) for c in cells]
    right += [(f"• {p}", {"size": 11, "color": BAD}) for p in s.data_pains]
    _box(slide, 6.9, 1.3, 6.0, 5.9, right)


def write_pptx(view: MapView, out: Path) -> Path:
    """One overview slide plus one slide per stage, 16:9."""
    pptx = _pptx()
    from pptx.util import Inches

    prs = pptx.Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    _overview(prs, view)
    for s in view.stages:
        _stage_slide(prs, view, s)
    prs.core_properties.title = view.jmap.title
    prs.core_properties.subject = f"journey map {view.jmap.id}; emotion {', '.join(signed(s.emotion.value) if s.emotion.value is not None else '?' for s in view.stages)}"
    prs.save(str(out))
    return out
