"""The page in Chromium: no console errors, nothing fetched beyond file:// and
localhost, details open on click; PNG and PDF exports look like the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from journeymap.render.browser import is_local
from journeymap.render.exports import export
from tests.render.conftest import all_maps, demo_map, sme_analysis


def test_page_opens_offline_without_errors(browser: Any, tmp_path: Path) -> None:
    html = export(demo_map("sme-onboarding-churn"), sme_analysis(), tmp_path / "map.html")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.as_uri(), wait_until="load")
    assert errors == []
    assert requests and all(is_local(u) for u in requests), requests
    card = page.locator("#tp-data_import")
    assert card.get_attribute("open") is None
    card.locator("summary").click()
    assert card.get_attribute("open") == ""
    assert page.locator("#tp-data_import .more").is_visible()
    shot = tmp_path / "shot.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    with Image.open(shot) as img:
        assert img.width == 1440 and img.height > 1500
        assert len(img.convert("RGB").getcolors(1 << 20) or []) > 50


def test_is_local() -> None:
    assert is_local("file:///tmp/x.html") and is_local("http://127.0.0.1:8000/") and is_local("data:image/png;base64,")
    assert not is_local("https://cdn.example.com/plotly.js") and not is_local("http://10.0.0.1/")


@pytest.mark.parametrize("name", ["sme-onboarding-churn", "template-retail-store-visit", "template-day-in-the-life"])
def test_png_and_pdf_exports(name: str, browser: Any, tmp_path: Path) -> None:
    jmap = all_maps()[name]
    analysis = sme_analysis() if name == "sme-onboarding-churn" else None
    png = export(jmap, analysis, tmp_path / "map.png", browser=browser)
    with Image.open(png) as img:
        assert img.width >= 1600 and img.height > 900
        colours = img.convert("RGB").getcolors(1 << 20) or []
        assert len(colours) > 50, "a uniform picture is not a map"
    pdf = export(jmap, analysis, tmp_path / "map.pdf", browser=browser)
    reader = PdfReader(pdf)
    assert 1 <= len(reader.pages) <= 6
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # A3 landscape
    assert abs(float(box.width) - 1190.55) < 2
    assert jmap.stages[0].name in reader.pages[0].extract_text()
