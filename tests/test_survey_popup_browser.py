"""The survey pop-up in Chromium: embedded in a page of another origin, it asks the
collector, shows an accessible dialog, takes a keyboard answer and posts it once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from journeymap.app.collector_app import create_collector_app
from journeymap.collector import Collector

from tests.app.test_browser import CHROMIUM, _serving
from tests.test_touchpoint_surveys import ws  # noqa: F401 - the fixture

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"), pytest.mark.slow]
SHOTS = Path(__file__).parent / "screenshots"


def test_the_popup_asks_and_takes_an_answer_from_another_site(ws: Any) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    collector = Collector(ws)
    key = collector.keys.add("site")
    collector.drain()  # selects the survey's audience
    with _serving(create_collector_app(collector)) as api:
        host_page = (f'<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Your account</h1>'
                     f'<button id="other">Somewhere else</button>'
                     f'<script src="{api}/survey.js" defer data-write-key="{key}" data-map="onboarding" '
                     f'data-touchpoint="kickoff-call" data-user-id="C2"></script></body></html>')
        site = Starlette(routes=[Route("/", lambda r: HTMLResponse(host_page)),
                                 Route("/favicon.ico", lambda r: Response(status_code=204))])
        with _serving(site) as shop:
            def drive() -> None:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM)
                    page = browser.new_page(viewport={"width": 1000, "height": 700})
                    errors: list[str] = []
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                    page.goto(shop)
                    dialog = page.get_by_role("dialog", name="How was your kickoff call <script>alert(1)</script>?")
                    dialog.wait_for()
                    assert page.evaluate("document.cookie") == ""
                    # keyboard only: the first score has focus; arrows move along the scale
                    page.keyboard.press("ArrowRight")
                    page.keyboard.press("ArrowRight")
                    page.keyboard.press("ArrowRight")
                    assert page.evaluate("document.activeElement.value") == "4"
                    page.get_by_label("What could we do better?").fill("Start on time")
                    SHOTS.mkdir(exist_ok=True)
                    page.screenshot(path=str(SHOTS / "survey-popup.png"))
                    dialog.get_by_role("button", name="Send").click()
                    page.get_by_role("status").filter(has_text="Thank you!").wait_for()
                    # the link of an email: a plain form, no script
                    link = collector.surveys.link("onboarding", "kickoff-call", "C1", base_url=api)
                    page.goto(link)
                    page.get_by_role("radio", name="2").check()
                    page.get_by_label("What could we do better?").fill("Call me earlier")
                    page.screenshot(path=str(SHOTS / "survey-link.png"))
                    page.get_by_role("button", name="Send").click()
                    page.get_by_role("heading", name="Thank you!").wait_for()
                    assert errors == []
                    page.goto(link)  # used: 410, which the console reports
                    page.get_by_role("heading", name="This survey link has been answered already: thank you").wait_for()
                    browser.close()

            # on a thread of its own: an earlier test (nbclient) may leave this thread looking
            # like it runs an asyncio loop, where Playwright's sync API refuses to start
            with ThreadPoolExecutor(1) as pool:
                pool.submit(drive).result(timeout=120)
    assert collector.drain().answers == 2
    rows = ws.store.con.execute("SELECT customer_id, score, touchpoint, comment, extra->>'via' FROM feedback "
                                "ORDER BY customer_id").fetchall()
    assert rows == [("C1", 2.0, "kickoff-call", "Call me earlier", "link"),
                    ("C2", 4.0, "kickoff-call", "Start on time", "popup")]
    collector.close()
