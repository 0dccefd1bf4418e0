"""The app in a real browser: Playwright driving Debian's Chromium against uvicorn.

One journey through the app as a new user takes it: the maps list, a map with its
numbers arriving from the background analysis, an edit in the YAML editor, the history,
the changes in the map's words, a restore, a new map from a template.  No page logs a
console error and no request leaves localhost.

``JOURNEYMAP_SCREENSHOTS=docs/img`` writes the README's screenshots (app-*.png) there.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from journeymap.app.main import create_app

CHROMIUM = "/usr/bin/chromium"
SME = "sme-onboarding-churn"

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"), pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(workspace: Path) -> Iterator[str]:
    with _serving(create_app(workspace, user="ana")) as url:
        yield url


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free port of localhost; its address."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=20)


@contextmanager
def _page(server: str, height: int = 900) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A Chromium page with its console errors and its requests that left localhost."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1366, "height": height})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith((server, "data:", "about:")) else None)
        yield page, errors, outside
        browser.close()


def _shot(page, name: str) -> None:  # noqa: ANN001 - playwright Page
    folder = os.environ.get("JOURNEYMAP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"app-{name}.png"))


def test_a_user_edits_a_map_sees_the_change_and_restores_it(server: str, workspace: Path) -> None:
    from playwright.sync_api import expect

    with _page(server, 860) as (page, errors, outside):

        page.goto(server + "/")
        rows = page.locator("table[aria-label=maps] tbody tr")
        expect(rows).to_have_count(3)
        page.get_by_label("Search").fill("sam")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(1)
        _shot(page, "maps")

        # the map: its numbers arrive from the background analysis, the page reloads itself
        page.get_by_role("link", name="SME journey from sign-up to first renewal").click()
        expect(page.get_by_text("Numbers from the latest data")).to_be_visible(timeout=90_000)
        frame = page.frame_locator("iframe.mappage")
        expect(frame.get_by_text("customers").first).to_be_visible()
        _shot(page, "map")

        # edit the YAML: rename the first stage, say why, save
        page.get_by_role("link", name="Edit YAML").click()
        editor = page.get_by_label("The map as YAML")
        text = editor.input_value()
        assert text == (workspace / "maps" / f"{SME}.yaml").read_text()
        editor.fill(text.replace("name: Sign-up\n", "name: Sign-up and trial\n", 1))
        page.get_by_label("What changed and why").fill("the stage covers the trial too")
        _shot(page, "editor")
        page.get_by_role("button", name="Save version").click()
        expect(page.get_by_text("Saved as version 2.")).to_be_visible()
        assert "name: Sign-up and trial" in (workspace / "maps" / f"{SME}.yaml").read_text()

        # an invalid edit is refused (422) with the validate problem on the page
        editor = page.get_by_label("The map as YAML")
        editor.fill(editor.input_value().replace("stages:", "stagez:", 1))
        before = len(errors)
        page.get_by_role("button", name="Save version").click()
        expect(page.get_by_role("alert")).to_contain_text("Not saved")
        expect(page.get_by_role("alert")).to_contain_text("stagez")
        # Chromium logs the 422 document itself as a console error: that one is expected
        assert [e for e in errors[before:] if "status of 422" not in e] == []
        del errors[before:]

        # history, the change in the map's words, restore
        page.get_by_role("link", name="History").click()
        expect(page.locator("table[aria-label=versions] tbody tr")).to_have_count(2)
        page.get_by_role("link", name="changes from v1").click()
        expect(page.locator("ol.changes li")).to_contain_text('Stage "Sign-up" renamed to "Sign-up and trial"')
        _shot(page, "diff")
        page.get_by_role("link", name="History").click()
        page.get_by_role("button", name="restore version 1").click()
        expect(page.locator("table[aria-label=versions] tbody tr")).to_have_count(3)
        expect(page.locator("tr[data-version='3']")).to_contain_text("restored version 1")
        assert "name: Sign-up\n" in (workspace / "maps" / f"{SME}.yaml").read_text()

        # a new map from a template
        page.get_by_role("link", name="New map").first.click()
        page.get_by_label("Name (file name").fill("ticket journey")
        page.get_by_label("Title").fill("Tickets from first contact to resolution")
        page.get_by_label("support-case").check()
        page.get_by_role("button", name="Create map").click()
        expect(page.get_by_role("heading", name="Tickets from first contact to resolution")).to_be_visible()
        assert (workspace / "maps" / "ticket-journey.yaml").is_file()
    assert errors == []
    assert outside == []


def test_the_editor_edits_cells_moves_stages_by_drag_and_drop_and_previews_rules(server: str,
                                                                               workspace: Path) -> None:
    from playwright.sync_api import expect

    from journeymap.model.yamlio import load_map

    path = workspace / "maps" / f"{SME}.yaml"
    before = load_map(path)
    first, second = before.stages[0], before.stages[1]
    tp = second.touchpoints[0]
    with _page(server) as (page, errors, outside):
        page.goto(f"{server}/maps/{SME}/edit")
        status = page.locator("#editor-status")

        # a cell edited in place
        lane = next((lane, cells) for lane, cells in (("actions", first.lanes.actions),
                                                       ("pain_points", first.lanes.pain_points)) if cells)
        label = {"actions": "Actions", "pain_points": "Pain points"}[lane[0]]
        cell = page.get_by_label(f"{label} 1 of stage {first.name}", exact=True)
        cell.fill("Signs up after a colleague's recommendation")
        cell.blur()
        expect(status).to_contain_text("Saved as version 2")
        assert getattr(load_map(path).stages[0].lanes, lane[0])[0].text == "Signs up after a colleague's recommendation"

        # evidence attached to that cell: where it comes from
        where = f"{label} 1 of stage {first.name}"
        page.get_by_label(f"evidence of {where}", exact=True).click()
        page.get_by_label(f"evidence kind of {where}", exact=True).select_option("research")
        page.get_by_label(f"evidence source of {where}", exact=True).fill("12 onboarding interviews, Oct 2026")
        page.get_by_label(f"evidence date of {where}", exact=True).fill("2026-10-20")
        page.get_by_role("button", name=f"attach evidence to {where}", exact=True).click()
        expect(page.get_by_label(f"evidence of {where}", exact=True)).to_contain_text("research")
        evidence = getattr(load_map(path).stages[0].lanes, lane[0])[0].evidence
        assert evidence is not None and evidence.kind.value == "research"
        assert evidence.source == "12 onboarding interviews, Oct 2026" and str(evidence.date) == "2026-10-20"

        # a stage moved by drag and drop: the second column onto the first
        page.locator(f".stage-col[data-stage='{second.id}'] .stage-head").drag_to(
            page.locator(f".stage-col[data-stage='{first.id}'] .stage-head"))
        expect(page.locator(".stage-col[data-stage]").first).to_have_attribute("data-stage", second.id)
        assert [s.id for s in load_map(path).stages][:2] == [second.id, first.id]

        # and back by keyboard
        page.get_by_role("button", name=f"move stage {second.name} right").click()
        expect(page.locator(".stage-col[data-stage]").first).to_have_attribute("data-stage", first.id)

        # a rule changed: the reach preview follows it
        page.get_by_role("button", name="Preview").nth(len(first.touchpoints)).click()
        reach = page.locator(f"#reach-{tp.id}")
        expect(reach).to_contain_text("customers")
        old_reach = reach.inner_text()
        _shot(page, "board")
        rule = page.get_by_label(f"match rule of touchpoint {tp.name}")
        rule.fill("no_such_event")
        rule.blur()
        expect(reach).to_contain_text("matches nothing")
        assert old_reach != reach.inner_text()
        assert load_map(path).stages[1].touchpoints[0].match.event == "no_such_event"

        # a touchpoint's KPI target
        kpi_tp = next(t for s in before.stages for t in s.touchpoints if t.kpis)
        kpi = kpi_tp.kpis[0]
        target = page.get_by_label(f"{kpi.name or kpi.metric.upper()} target of touchpoint {kpi_tp.name}")
        target.fill("0.91")
        target.blur()
        expect(status).to_contain_text("Saved as version")
        moved = load_map(path)
        found = next(t for s in moved.stages for t in s.touchpoints if t.id == kpi_tp.id)
        assert found.kpis[0].target == 0.91

        # a broken rule is refused with the validate problem, the file unchanged
        text = path.read_text()
        rule.fill('{"where": "channel =="}')
        rule.blur()
        expect(status).to_contain_text("Not saved")
        expect(rule).to_have_attribute("aria-invalid", "true")
        assert path.read_text() == text
    # the refused save's 400/422 answer is logged by Chromium as a failed resource load
    assert [e for e in errors if "status of 4" not in e] == []
    assert outside == []


def test_an_upload_with_bad_rows_shows_them_in_the_quarantine_browser(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    upload = tmp_path / "support-export.csv"
    upload.write_text("customer_id,timestamp,event,channel\n"
                      "C000001,2026-02-01T09:00:00,ticket_opened,support\n"
                      "C000002,31/31/2026,ticket_opened,support\n"
                      ",2026-02-01T09:05:00,ticket_opened,support\n")
    with _page(server) as (page, errors, outside):
        page.goto(server + "/data")
        page.get_by_label("File (CSV").set_input_files(str(upload))
        page.locator("#upload").get_by_label("Kind").select_option("events")
        page.get_by_role("button", name="Upload and load").click()
        expect(page.locator("#upload-status")).to_contain_text("Loaded 1 rows, 2 quarantined", timeout=30_000)
        page.wait_for_load_state("load")
        rows = page.locator("table[aria-label='quarantined rows'] tbody tr")
        expect(rows).to_have_count(2, timeout=10_000)
        expect(rows.first).to_contain_text("support-export.csv")
        page.get_by_label("Text in file, field or row").fill("31/31")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("timestamp")
        _shot(page, "data")
    assert errors == [] and outside == []


def test_each_analytics_view_opens_and_takes_the_filters_of_analyze(server: str) -> None:
    from playwright.sync_api import expect

    from journeymap.render.analytics import VIEWS

    with _page(server) as (page, errors, outside):
        page.goto(f"{server}/maps/{SME}")
        page.get_by_role("link", name="Analytics").click()
        # the first view waits for the background analysis, then the page reloads itself
        expect(page.locator("#view-title")).to_have_text("Paths", timeout=90_000)
        expect(page.locator("#chart-sankey svg")).to_be_visible()
        nav = page.get_by_role("navigation", name="analytics views")
        for title, _ in list(VIEWS.values())[1:]:
            nav.get_by_role("link", name=title, exact=True).click()
            expect(page.locator("#view-title")).to_have_text(title, timeout=90_000)
            # each view shows something drawn from the data: a chart, a table or cards
            assert page.locator("figure.chart svg, table.data-table tbody tr, article.insight").count() > 0, title
            assert page.locator("p.empty").count() == 0, title
            if title == "Pain points":
                expect(page.locator("article.insight").first).to_contain_text("Test")
            if title == "Stages by segment":
                _shot(page, "analytics-stages")
        # a filter: the funnel of one plan only, kept as the user moves between views
        nav.get_by_role("link", name="Funnel", exact=True).click()
        expect(page.get_by_label("By")).to_have_value("")  # the stages view's default stays there
        page.get_by_label("Segment rule").fill("plan == 'pro'")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("#view-title")).to_have_text("Funnel", timeout=90_000)
        expect(page.locator("p.intro")).to_contain_text("segment plan == 'pro'")
        _shot(page, "analytics-funnel")
        nav.get_by_role("link", name="Paths", exact=True).click()
        expect(page.get_by_label("Segment rule")).to_have_value("plan == 'pro'")
        # a wrong rule is named on its field, and nothing runs
        page.get_by_label("Segment rule").fill("plan ==")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("#filter-error")).to_contain_text("something is missing")
        expect(page.get_by_label("Segment rule")).to_have_attribute("aria-invalid", "true")
    # the wrong rule's 400 answer is logged by Chromium as a failed resource load
    assert [e for e in errors if "status of 400" not in e] == []
    assert outside == []


def test_a_persona_goes_to_the_library_is_refined_and_a_new_map_is_drafted_with_it(server: str,
                                                                                 workspace: Path) -> None:
    from playwright.sync_api import expect

    with _page(server) as (page, errors, outside):
        page.goto(server + "/")
        page.get_by_role("navigation", name="main").get_by_role("link", name="Personas").click()
        page.get_by_role("button", name="add Sam, operations lead at a 30-person company to the library").click()
        expect(page.get_by_role("status")).to_contain_text("Saved as personas/sam.yaml")
        quote = page.get_by_label("Quote")
        quote.fill("If the import takes more than a day, we are gone.")
        page.get_by_role("button", name="Save persona").click()
        expect(page.locator("form[aria-label='use in maps']")).to_contain_text("differs: quote")
        page.get_by_role("button", name="Use in the ticked maps").click()
        expect(page.get_by_role("status")).to_contain_text("1 map now uses this persona")
        expect(page.locator("form[aria-label='use in maps']")).to_contain_text("same as the library")
        assert "we are gone" in (workspace / "maps" / f"{SME}.yaml").read_text()
        page.get_by_role("navigation", name="main").get_by_role("link", name="Personas").click()
        _shot(page, "personas")

        # a new map drafted from the data, with the library persona
        page.get_by_role("link", name="New map").first.click()
        page.get_by_label("Name (file name").fill("from the data")
        page.get_by_label("Title").fill("What the events say")
        page.get_by_label("Persona").select_option("sam")
        page.get_by_label("discover").check()
        page.get_by_label("Stages (empty").fill("4")
        page.get_by_role("button", name="Create map").click()
        expect(page.locator("h1")).to_have_text("What the events say", timeout=60_000)
        expect(page.locator("p.meta").first).to_contain_text("from-the-data")
        assert "we are gone" in (workspace / "maps" / "from-the-data.yaml").read_text()
    # the 202 of the started draft is not an error; nothing else may be logged
    assert [e for e in errors if "status of 202" not in e] == []
    assert outside == []


def test_a_future_state_is_made_and_compared_with_the_current_state(server: str) -> None:
    from playwright.sync_api import expect

    with _page(server) as (page, errors, outside):
        page.goto(server + "/maps/new")
        page.get_by_label("Name (file name").fill("enterprise future")
        page.get_by_label("Title").fill("Enterprise, as it should be")
        page.get_by_label("future-state").check()
        page.get_by_label("For a future state").select_option("enterprise-acquisition")
        page.get_by_role("button", name="Create map").click()
        page.get_by_role("link", name="Compare").click()
        expect(page.locator("h1.view-title")).to_have_text("Current state → future state")
        expect(page.locator("ol.changes")).to_contain_text("Pain point in \"Awareness\" removed")
        # both analyses arrive in the background and the page reloads with both curves
        expect(page.locator("#chart-emotion svg")).to_contain_text("Current: How enterprise", timeout=90_000)
        expect(page.locator("#chart-compare svg")).to_be_visible()
        _shot(page, "compare")
    assert errors == [] and outside == []


def test_a_member_signs_in_works_and_signs_out(server: str, workspace: Path) -> None:
    from playwright.sync_api import expect

    from journeymap.app.accounts import open_accounts

    open_accounts(str(workspace)).add("olga@example.com", "owner", name="Olga", password="correct horse battery")
    with _page(server) as (page, errors, outside):
        page.goto(f"{server}/maps/{SME}")
        expect(page).to_have_url(f"{server}/login?next=/maps/{SME}")
        page.get_by_label("Email").fill("olga@example.com")
        page.get_by_label("Password").fill("correct horse battery")
        _shot(page, "login")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("h1")).to_have_text("SME journey from sign-up to first renewal")
        expect(page.locator("header.top")).to_contain_text("Olga (owner)")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{server}/login")
        page.goto(server + "/")
        expect(page).to_have_url(f"{server}/login?next=/")
    assert errors == [] and outside == []


def test_a_thread_is_started_answered_and_resolved_in_the_page(server: str) -> None:
    from playwright.sync_api import expect

    with _page(server) as (page, errors, outside):
        page.goto(f"{server}/maps/{SME}")
        page.get_by_role("link", name="Discussion").click()
        page.get_by_label("About").select_option("stage:onboarding")
        page.get_by_label("Comment").fill("Do we still lose SMEs at the import? Let's check the numbers on Friday.")
        page.get_by_role("button", name="Start a thread").click()
        thread = page.locator("article.thread").first
        expect(thread).to_contain_text("Stage Onboarding")
        thread.get_by_label("Reply").fill("Yes: the import step is still the first pain point.")
        thread.get_by_role("button", name="Reply").click()
        expect(page.locator("article.thread").first).to_contain_text("the first pain point")
        _shot(page, "discussion")
        page.get_by_role("button", name="resolve the thread on Stage Onboarding").click()
        expect(page.locator("article.thread").first).to_contain_text("resolved")
        expect(page.locator("ol.feed")).to_contain_text("resolved a thread")
    assert errors == [] and outside == []


def test_two_workspaces_on_one_server_each_under_its_own_address(small_demo: Path, tmp_path: Path) -> None:
    """``journeymap serve -w sales -w support``: the index lists both; signed in to one,
    its pages, map frame and editor work under /w/sales/, and the other asks to sign in."""
    from playwright.sync_api import expect

    from .conftest import server_of

    app = server_of(small_demo, tmp_path, None, ("sales", "support"))
    roots = {n: tmp_path / n for n in ("sales", "support")}
    app.state.workspaces["sales"].state.jm.accounts.add("olga@example.com", "owner", name="Olga",
                                                       password="correct horse battery")
    app.state.workspaces["support"].state.jm.accounts.add("sam@example.com", "owner")
    with _serving(app) as server, _page(server) as (page, errors, outside):
        page.goto(server + "/")
        _shot(page, "workspaces")
        expect(page.get_by_role("list", name="workspaces")).to_contain_text("/w/support/")
        page.locator("a[href='/w/sales/']").click()
        expect(page).to_have_url(f"{server}/w/sales/login?next=/w/sales/")
        page.get_by_label("Email").fill("olga@example.com")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{server}/w/sales/")
        page.locator(f"a[href='/w/sales/maps/{SME}']").first.click()
        expect(page.locator("h1")).to_have_text("SME journey from sign-up to first renewal")
        frame = page.frame_locator("iframe").first
        expect(frame.locator("body")).to_contain_text("Stage", timeout=60_000)
        page.get_by_role("link", name="Edit", exact=True).click()
        expect(page).to_have_url(f"{server}/w/sales/maps/{SME}/edit")
        expect(page.locator("#editor[data-ready]")).to_be_attached()  # editor.js listening
        cell = page.locator("#content [contenteditable], #content textarea").first
        cell.fill("Signs up after a colleague's recommendation")
        cell.blur()
        expect(page.locator("#editor-status")).to_contain_text("Saved as version 2")
        assert "colleague's recommendation" in (roots["sales"] / "maps" / f"{SME}.yaml").read_text()
        assert "colleague's recommendation" not in (roots["support"] / "maps" / f"{SME}.yaml").read_text()
        page.goto(f"{server}/w/support/maps/{SME}")  # signed in to sales only
        expect(page).to_have_url(f"{server}/w/support/login?next=/w/support/maps/{SME}")
    assert errors == [] and outside == []


def test_two_members_mention_share_and_see_a_stale_map(workspace: Path, database_url: str | None) -> None:
    """Olga mentions Eddie through the autocomplete, makes a share link that opens signed
    out, and sees the map flagged stale; Eddie sees the mention and resolves the thread —
    with the app's metadata in SQLite and in PostgreSQL."""
    import datetime as dt

    from playwright.sync_api import expect, sync_playwright

    from journeymap.app.tables import MapReviewRow, MapRow, utcnow

    app = create_app(workspace, database_url=database_url)
    accounts = app.state.jm.accounts
    accounts.add("olga@example.com", "owner", name="Olga Berg", password="correct horse battery")
    accounts.add("eddie@example.com", "editor", name="Eddie Moss", password="correct horse battery")
    accounts.add("edna@example.com", "viewer", name="Edna Park", password="correct horse battery")
    with app.state.jm.library.sessions.begin() as s:  # Olga's last review was 120 days ago
        pk = s.query(MapRow.id).filter(MapRow.ref == SME).scalar()
        old = utcnow() - dt.timedelta(days=120)
        s.add(MapReviewRow(map_pk=pk, interval_days=90, reviewed_by="Olga Berg", reviewed_at=old, created_at=old))

    def sign_in(page, email: str) -> None:  # noqa: ANN001 - playwright Page
        page.goto(f"{server}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("header.top")).to_contain_text("Sign out")

    with _serving(app) as server:
        with _page(server) as (page, errors, outside):
            sign_in(page, "olga@example.com")
            row = page.locator(f"tr[data-ref='{SME}']")
            expect(row).to_contain_text("stale")
            expect(row).to_contain_text("review due since")
            page.goto(f"{server}/maps/{SME}/discussion")
            box = page.get_by_label("Comment")
            box.press_sequentially("Can @ed")
            options = page.get_by_role("listbox", name="members to mention").get_by_role("option")
            expect(options).to_have_count(2)  # Eddie and Edna; not Olga
            expect(options.first).to_contain_text("Eddie Moss")
            _shot(page, "mention")
            box.press("ArrowDown")
            box.press("ArrowUp")
            box.press("Enter")
            expect(box).to_have_value("Can @eddie ")
            box.press_sequentially("check the import step?")
            page.get_by_role("button", name="Start a thread").click()
            expect(page.locator("article.thread").first).to_contain_text("mentions eddie@example.com")

            page.get_by_role("link", name="Share").click()
            page.get_by_role("button", name="Make a share link").click()
            link = page.get_by_label("the new share link").input_value()
            assert link.startswith(f"{server}/share/")
            page.get_by_role("button", name="Sign out").click()

            sign_in(page, "eddie@example.com")
            expect(page.get_by_role("link", name="Mentions")).to_contain_text("1")
            page.get_by_role("link", name="Mentions").click()
            expect(page.locator("#content")).to_contain_text("check the import step?")
            page.get_by_role("button", name="Mark all as read").click()
            expect(page.get_by_role("link", name="Mentions")).not_to_contain_text("1")
            page.goto(f"{server}/maps/{SME}/discussion")
            page.get_by_role("button", name="resolve the thread on").first.click()
            expect(page.locator("article.thread").first).to_contain_text("resolved")
            expect(page.locator("article.thread").first).to_contain_text("Eddie Moss")
            expect(page.get_by_role("link", name="Mentions")).not_to_contain_text("1")
        assert errors == [] and outside == []

        with sync_playwright() as p:  # the share link, in a browser that never signed in
            browser = p.chromium.launch(executable_path=CHROMIUM)
            shared = browser.new_page()
            shared.goto(link)
            expect(shared.locator("body")).to_contain_text("SME journey from sign-up to first renewal")
            assert "/login" not in shared.url
            shared.goto(f"{server}/maps/{SME}")
            expect(shared).to_have_url(f"{server}/login?next=/maps/{SME}")
            browser.close()
