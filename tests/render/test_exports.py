"""Every export format from maps and analyses: files that open and carry the map."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openpyxl import load_workbook

from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap
from journeymap.render.exports import export
from journeymap.render.tables import mermaid, neutralise
from journeymap.render.view import build_view
from tests.render.conftest import all_maps, demo_map, sme_analysis

MAPS = all_maps()
TEXT_FORMATS = (".html", ".svg", ".md", ".csv", ".xlsx", ".pptx", ".mmd", ".json")


@pytest.mark.parametrize("name", sorted(MAPS))
def test_every_map_exports_to_every_file_format(name: str, tmp_path: Path) -> None:
    jmap = MAPS[name]
    for suffix in TEXT_FORMATS:
        out = export(jmap, None, tmp_path / f"map{suffix}")
        assert out.stat().st_size > 100, suffix
    assert ET.parse(tmp_path / "map.svg").getroot().tag.endswith("svg")
    doc = json.loads((tmp_path / "map.json").read_text())
    assert JourneyMap.model_validate(doc["map"]) == jmap
    md = (tmp_path / "map.md").read_text()
    assert all(s.name.replace("|", "\\|") in md for s in jmap.stages)
    mmd = (tmp_path / "map.mmd").read_text()
    assert mmd.startswith("journey\n") and mmd.count("    section ") == len(jmap.stages)


def test_pptx_has_an_overview_and_one_slide_per_stage(tmp_path: Path) -> None:
    from pptx import Presentation

    jmap = demo_map("sme-onboarding-churn")
    out = export(jmap, sme_analysis(), tmp_path / "map.pptx")
    slides = Presentation(str(out)).slides
    assert len(slides) == len(jmap.stages) + 1
    texts = ["\n".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in slides]
    assert jmap.title in texts[0]
    for stage, text in zip(jmap.stages, texts[1:], strict=True):
        assert stage.name in text
    assert "1,058 customers reached" in texts[1]
    assert "CSAT 22 % (17–29 %, n=187)" in texts[4]  # adoption, after activation


def test_xlsx_and_csv_hold_the_map_table_with_formulas_neutralised(tmp_path: Path) -> None:
    jmap = demo_map("sme-onboarding-churn")
    jmap.stages[0].lanes.actions[0].text = "=HYPERLINK(\"http://evil\",\"x\")"
    jmap.stages[1].lanes.actions[0].text = "@SUM(A1)"
    jmap.stages[2].lanes.actions[0].text = "+1 call"
    jmap.stages[3].lanes.actions[0].text = "-2 days"
    export(jmap, sme_analysis(), tmp_path / "map.xlsx")
    export(jmap, sme_analysis(), tmp_path / "map.csv")
    sheet = load_workbook(tmp_path / "map.xlsx").active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Lane", *[s.name for s in jmap.stages]]
    assert values[1] == ["Customers reached", 1058, 677, None, 662, 469]  # no data for activation
    actions = next(r for r in values if r[0] == "Customer actions")
    assert [a.split("\n")[0] for a in actions[1:]] == [
        "'=HYPERLINK(\"http://evil\",\"x\")", "'@SUM(A1)", "'+1 call", "'-2 days",
        "Reads the renewal reminder"]
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for r in values for v in r)
    with (tmp_path / "map.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == values[0] and not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r)
    assert neutralise(-3) == -3 and neutralise("ok") == "ok" and neutralise("\t=1") == "'\t=1"


def test_mermaid_scores_follow_the_emotion_curve() -> None:
    text = mermaid(build_view(demo_map("sme-onboarding-churn"), sme_analysis()))
    # sign-up +1 (assumed) → 4; onboarding measured −0.62 → 2; activation +1 (assumed) → 4;
    # adoption +0.25 → 3; renewal −0.5 → 2
    sections = text.split("    section ")[1:]
    assert [s.splitlines()[1].rsplit(": ", 2)[1] for s in sections] == ["4", "2", "4", "3", "2"]
    assert ":" not in text.split("title ", 1)[1].splitlines()[0]


def test_svg_files_one_per_chart(tmp_path: Path) -> None:
    export(demo_map("sme-onboarding-churn"), sme_analysis(), tmp_path / "charts.svg")
    for chart in ("emotion", "funnel", "sankey", "trend"):
        ET.parse(tmp_path / f"charts-{chart}.svg")


def test_unknown_extension_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JourneymapError, match=r"unsupported output format '.docx' \(supported: .html .png"):
        export(demo_map("day-in-the-life"), None, tmp_path / "map.docx")


def test_markdown_and_mermaid_keep_html_in_map_text_as_text(tmp_path: Path) -> None:
    """A wiki renders raw HTML in Markdown: a ``<script>`` typed into a map cell, the
    title or the persona must arrive as text, and a ``|`` must not break the table."""
    hostile = "<script>alert(1)</script> | <img src=x onerror=alert(2)> & co"
    doc = demo_map("sme-onboarding-churn").model_dump(mode="json", exclude_none=True)
    doc["title"] = hostile
    doc["persona"].update(name=hostile, quote=hostile)
    doc["stages"][0]["name"] = "Sign <b>up</b>"
    doc["stages"][0]["lanes"].update(pain_points=[hostile], thoughts=[hostile])
    jmap = JourneyMap.model_validate(doc)
    md = export(jmap, None, tmp_path / "map.md").read_text()
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "&amp; co" in md
    table = [line for line in md.splitlines() if line.startswith("| ")]
    header_cells = table[0].count(" | ")
    assert all(row.replace("\\|", "").count(" | ") == header_cells for row in table)
    mmd = export(jmap, None, tmp_path / "map.mmd").read_text()
    assert "<" not in mmd and ">" not in mmd
