"""`journeymap demo` end to end, as a user runs it: a subprocess on a fresh folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from journeymap.engine.coverage import map_coverage
from journeymap.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("demo") / "ws"
    done = subprocess.run(
        [sys.executable, "-m", "journeymap.cli", "demo", str(root), "--customers", "2000", "--no-serve"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    return root, done


def test_demo_runs_and_prints_counts_and_the_report(demo) -> None:
    root, done = demo
    assert done.returncode == 0, done.stderr
    for kind in ("customers", "events", "feedback", "transactions", "transcripts"):
        assert re.search(rf"^{kind}: [\d,]+ loaded, 0 quarantined", done.stdout, re.M), done.stdout
    assert "reports/index.html" in done.stdout
    assert (root / "reports" / "index.html").is_file()
    assert (root / "ground_truth.json").is_file()


def test_demo_workspace_status_and_maps(demo) -> None:
    root, _ = demo
    status = subprocess.run(
        [sys.executable, "-m", "journeymap.cli", "status", "-w", str(root), "--json"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    info = json.loads(status.stdout)
    assert info["tables"]["customers"]["rows"] == 2000
    assert info["tables"]["events"]["rows"] > 40_000
    assert len(info["maps"]) == 3
    valid = subprocess.run(
        [sys.executable, "-m", "journeymap.cli", "validate", "-w", str(root)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert valid.returncode == 0, valid.stderr


def test_demo_pages_show_every_stage_and_touchpoint_with_its_numbers(demo) -> None:
    root, _ = demo
    with Workspace.open(root) as ws:
        for path in ws.map_paths():
            jmap = ws.load_map(path)
            page = (root / "reports" / f"{jmap.id}.html").read_text()
            coverage = map_coverage(ws.store.ibis(), jmap)
            for stage in jmap.stages:
                assert f'id="stage-{stage.id}"' in page
            for tp in jmap.touchpoints:
                block = page.split(f'id="tp-{tp.id}"', 1)[1].split("</div>\n", 1)[0]
                numbers = coverage.touchpoints.get(tp.id)
                if numbers:
                    assert f'data-metric="customers">{numbers["customers"]:,}<' in page.split(
                        f'id="tp-{tp.id}"', 1)[1][:2000], tp.id
                assert block
            assert coverage.events > 0 and coverage.customers > 0


def test_demo_ends_on_the_app_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    import http.cookiejar
    import re
    import signal
    import socket
    import time
    import urllib.parse
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "demo.log"
    with log.open("w") as sink, subprocess.Popen(
        [sys.executable, "-m", "journeymap.cli", "demo", str(tmp_path / "ws"), "--customers", "300",
         "--port", str(port)],
        stdout=sink, stderr=subprocess.STDOUT, text=True,
    ) as proc:
        try:
            deadline = time.monotonic() + 90
            body = ""
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                        body = resp.read().decode()
                    break
                except OSError:
                    time.sleep(0.3)
            # the served demo asks its owner to sign in, with the password it printed
            assert "Sign in" in body, log.read_text()
            found = re.search(r"Sign in as (\S+) with the password (\S+) ", log.read_text())
            assert found, log.read_text()
            csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', body).group(1)
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            opener.open(f"http://127.0.0.1:{port}/login", timeout=5).read()  # same cookie state as the form
            form = urllib.parse.urlencode({"email": found.group(1), "password": found.group(2), "next": "/",
                                           "csrf_token": csrf}).encode()
            with opener.open(f"http://127.0.0.1:{port}/login", data=form, timeout=10) as resp:
                body = resp.read().decode()
            assert "Journey maps" in body, body[:500]
            for ref in ("day-in-the-life", "enterprise-acquisition", "sme-onboarding-churn"):
                assert f'href="/maps/{ref}"' in body
            proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
            assert proc.wait(timeout=30) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
    text = log.read_text()
    assert f"http://127.0.0.1:{port}/" in text and "stopped" in text and "Traceback" not in text
