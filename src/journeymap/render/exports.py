"""`journeymap render MAP --out FILE`: one map, every format, chosen by the extension.

.html (standalone page) · .png / .pdf (the page through headless Chromium) · .svg (the
charts) · .md (wiki) · .csv / .xlsx (the map table, formula-safe) · .pptx (overview
plus one slide per stage) · .mmd (Mermaid ``journey``) · .json (map and analysis).

A pure function of the map, its analysis and options: reading the workspace and
analysing it is :meth:`journeymap.workspace.Workspace.render`'s part.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap
from journeymap.render.chartset import map_charts
from journeymap.render.page import render_map_html
from journeymap.render.tables import markdown, mermaid, safe_table
from journeymap.render.view import MapView, build_view

if TYPE_CHECKING:
    from playwright.sync_api import Browser

FORMATS = (".html", ".png", ".pdf", ".svg", ".md", ".csv", ".xlsx", ".pptx", ".mmd", ".json")


def suffix_of(out: Path) -> str:
    """The output format of ``out`` (``.htm`` is ``.html``); an error names the supported ones."""
    suffix = ".html" if out.suffix.lower() == ".htm" else out.suffix.lower()
    if suffix not in FORMATS:
        raise JourneymapError(f"{out}: unsupported output format '{out.suffix or '(none)'}' "
                              f"(supported: {' '.join(FORMATS)})")
    return suffix


def _svg(view: MapView, out: Path, compare: MapView | None, current: MapView | None) -> Path:
    """All charts in one SVG (stacked) and each chart beside it as ``<name>-<chart>.svg``."""
    charts = map_charts(view, compare=compare, current=current)
    if not charts:
        raise JourneymapError(f"{view.jmap.id}: no chart to draw (no data and no emotion values in the map)")
    y, parts, width = 0, [], 0
    for c in charts:
        w = float(c.svg.split('width="', 1)[1].split('"', 1)[0])
        h = float(c.svg.split('height="', 1)[1].split('"', 1)[0])
        inner = c.svg.replace("<svg ", f'<svg x="0" y="{y + 30}" ', 1)
        parts.append(f'<text x="0" y="{y + 20}" font-size="16" font-weight="bold">{c.title}</text>{inner}')
        y += h + 50
        width = max(width, int(w))
        (out.with_name(f"{out.stem}-{c.id}.svg")).write_text(c.svg, encoding="utf-8")
    out.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y:.0f}" '
                   f'viewBox="0 0 {width} {y:.0f}" font-family="DejaVu Sans, Arial, sans-serif">'
                   f'{"".join(parts)}</svg>', encoding="utf-8")
    return out


def _csv(view: MapView, out: Path) -> Path:
    with out.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(safe_table(view))
    return out


def _xlsx(view: MapView, out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Journey map"
    for row in safe_table(view):
        ws.append(list(row))
    head = PatternFill("solid", fgColor="2F5D8A")
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), head
    for row in ws.iter_rows():
        row[0].font = Font(bold=True)
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 22
    for col in ws.iter_cols(min_col=2):
        ws.column_dimensions[col[0].column_letter].width = 38
    ws.freeze_panes = "B2"
    wb.properties.title = view.jmap.title
    wb.save(str(out))
    return out


def _json(view: MapView, out: Path) -> Path:
    doc = {"map": view.jmap.model_dump(mode="json", exclude_none=True), "analysis": view.analysis}
    out.write_text(json.dumps(doc, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def export(jmap: JourneyMap, analysis: Mapping[str, Any] | None, out: Path, *, source: str | None = None,
           compare: MapView | None = None, current: MapView | None = None,
           browser: Browser | None = None) -> Path:
    """Write ``jmap`` (with ``analysis``) to ``out`` in the format of its extension."""
    suffix = suffix_of(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    view = build_view(jmap, analysis)
    if suffix in (".html", ".png", ".pdf"):
        html = render_map_html(jmap, view.analysis, source=source, compare=compare, current=current)
        if suffix == ".html":
            out.write_text(html, encoding="utf-8")
            return out
        from journeymap.render.browser import print_pdf, screenshot

        with tempfile.TemporaryDirectory(prefix="journeymap-") as tmp:
            page = Path(tmp) / f"{jmap.id}.html"
            page.write_text(html, encoding="utf-8")
            (screenshot if suffix == ".png" else print_pdf)(page, out, browser=browser)
        return out
    if suffix == ".svg":
        return _svg(view, out, compare, current)
    if suffix == ".pptx":
        from journeymap.render.slides import write_pptx

        return write_pptx(view, out)
    writers: dict[str, Callable[[MapView, Path], Path]] = {
        ".csv": _csv, ".xlsx": _xlsx, ".json": _json,
        ".md": lambda v, p: _write(p, markdown(v)), ".mmd": lambda v, p: _write(p, mermaid(v)),
    }
    return writers[suffix](view, out)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

