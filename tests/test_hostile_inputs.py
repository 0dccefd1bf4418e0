"""Every command on hostile names and values: exit 0 or 1, one-line errors, no traceback.

User text -- a file, folder, event, attribute, map title -- with Rich markup (``[/]``,
``[bold]``), emoji codes, quotes, ``=cmd`` formula text, unicode, control characters or
thousands of characters is printed as typed, never parsed, and never crashes a command.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from journeymap.cli import UNEXPECTED, main

MARKUP = "[/]"
BOLD = "[bold]loud[/bold]"
FORMULA = "=HYPERLINK(\"http://x\",\"y\")"
HOSTILE = [MARKUP, BOLD, "[link=http://x]x", ":smile: :x:", FORMULA, "+1 @SUM(A1)",
           "\"quoted\", 'single'", "ünïcødé ✓ 日本語 🚀", "tab\there", "back\\slash",
           "%s %(x)s {0} $1", "<script>alert(1)</script>", "'; DROP TABLE events; --",
           "y" * 180]

EVENTS = [f"signup {MARKUP}", f"pricing {BOLD}", FORMULA, "ünï ✓ 日本", "x" * 180]


def csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def csv(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(csv_cell(c) for c in line) for line in [header] + rows) + "\n"


def _map_yaml() -> str:
    s = json.dumps  # JSON strings are YAML strings: every hostile character quoted
    return f"""\
id: hostile
title: {s("Hostile " + BOLD + " " + MARKUP + " " + FORMULA)}
goal:
  statement: {s("Sign-ups up by 10 % " + MARKUP)}
persona:
  name: {s("Pat " + BOLD)}
scenario: {s("Pat types " + FORMULA + " and :smile:")}
stages:
  - id: awareness
    name: {s("Awareness " + MARKUP)}
    touchpoints:
      - id: pricing
        name: {s("Pricing " + BOLD)}
        channel: web
        match: {{event_in: [{s(EVENTS[1])}, {s(EVENTS[2])}]}}
  - id: decision
    name: {s("Decision " + FORMULA)}
    touchpoints:
      - id: signup
        name: {s("Sign-up ünï ✓")}
        channel: web
        match: {{event_in: [{s(EVENTS[0])}, {s(EVENTS[3])}]}}
"""


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose path holds markup: ``.../h[/]ws [bold]x`` (``h[`` is a folder)."""
    return tmp_path_factory.mktemp("hostile") / "h["


@pytest.fixture(scope="module")
def files(place: Path) -> dict[str, Path]:
    data = place / "] data [bold]"  # every file's path holds "h[/] data"
    data.mkdir(parents=True)
    events = [["c1" if i % 2 else f"c{MARKUP}", f"2024-03-0{1 + i % 5}T10:{i:02d}:00Z",
               EVENTS[i % len(EVENTS)], ["web", BOLD, "ünï"][i % 3], "{}"] for i in range(40)]
    events.append(["c9", "not a time", "[/] never", "web", "{}"])  # quarantined: printed
    written = {
        "events": ("ev [x] =cmd.csv", csv(["customer_id", "timestamp", "event", "channel",
                                            "properties"], events)),
        "events_jsonl": ("ev [bold].jsonl", "".join(json.dumps(
            {"customer_id": f"j{MARKUP}", "timestamp": "2024-03-02T10:00:00Z",
             "event": e, "channel": {"nested": MARKUP} if i == 0 else MARKUP})
            + "\n" for i, e in enumerate(EVENTS))),
        "segment": ("calls [red].jsonl", "".join(json.dumps(c) + "\n" for c in [
            {"type": "track", "userId": "c1", "event": EVENTS[0], "messageId": "m[/]1",
             "timestamp": "2024-03-03T10:00:00Z"},
            {"type": MARKUP, "userId": "c1", "messageId": "m2"},
            {"type": "identify", "userId": "c1", "traits": {MARKUP: BOLD, "plan": FORMULA}}])),
        "customers": ("crm [u].csv", csv(["customer_id", "Segment [/]", "plan", BOLD],
                                         [["c1", MARKUP, FORMULA, "ünï"],
                                          [f"c{MARKUP}", BOLD, "pro", "x" * 5000],
                                          ["c1", "extra", "field", "ragged", "row"]])),
        "feedback": ("nps [i].csv", csv(["customer_id", "timestamp", "metric", "score", "comment"],
                                        [["c1", "2024-03-04", "nps", "9", FORMULA],
                                         [f"c{MARKUP}", "2024-03-04", "csat", "4", BOLD * 50],
                                         ["c1", "2024-03-04", "nps", "11", MARKUP]])),
        "transactions": ("tx [b].csv", csv(["customer_id", "timestamp", "amount", "currency"],
                                           [[f"c{i}{MARKUP if i % 3 else BOLD}",
                                             f"2024-{1 + (i * 7 + k * 3) % 12:02d}-{1 + i % 28:02d}",
                                             f"{5 + (i * k) % 40}.50", "EUR"]
                                            for i in range(40) for k in range(i % 5)] +
                                           [[f"c{MARKUP}", "2024-02-02", "€12", MARKUP],
                                            ["c1", "2024-03-02", "15", "EUR"]])),
        "transcripts": ("c[x]_2026-05-01T10-00-00Z.vtt",
                        f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v {BOLD}>{MARKUP} {FORMULA}\n\n"
                        "99999999999:00:00.000 --> 99999999999:00:01.000\nlost\n"),
        "transcript_json": ("call [s].json", json.dumps(
            {"customer_id": MARKUP, "start": "2026-05-01T10:00:00Z", "segments": [
                {"start": 0, "speaker": BOLD, "text": FORMULA},
                {"start": "soon [/]", "text": "bad start"},
                {"start": [1], "text": "a list"}]})),
    }
    paths = {}
    for key, (name, content) in written.items():
        paths[key] = data / name
        paths[key].write_text(content, encoding="utf-8")
    return paths


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    output = result.stdout + result.stderr
    assert result.exit_code in (0, 1), (args, result.exit_code, output)
    assert "Traceback" not in output, (args, output)
    assert UNEXPECTED not in output, (args, output)  # no bug behind a one-line message
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
        args, result.exception)
    if result.exit_code == 1:  # one line saying why (validate: one per problem, a summary)
        lines = result.stderr.strip().splitlines()
        assert lines, (args, output)
        if lines[0].startswith("error: "):
            assert len(lines) == 1, (args, output)
        else:
            assert args[0] == "validate" and lines[-1].endswith("map(s)"), (args, output)
    return result


@pytest.fixture(scope="module")
def ws(place: Path, files: dict[str, Path]) -> Iterator[Path]:
    workspace = place / "]ws [bold]x"
    result = run("init", workspace, "--name", f"Acme {BOLD} {MARKUP}")
    assert result.exit_code == 0
    assert f"Workspace 'Acme {BOLD} {MARKUP}' ready in {workspace}" in result.stdout
    (workspace / "maps" / "hostile.yaml").write_text(_map_yaml(), encoding="utf-8")
    yield workspace


@pytest.mark.slow
def test_ingest_of_every_kind_prints_names_as_typed(ws: Path, files: dict[str, Path]) -> None:
    events = run("ingest", "events", files["events"], files["events_jsonl"], "-w", ws)
    assert events.exit_code == 0
    assert "events: 44 loaded, 2 quarantined, 0 duplicates" in events.stdout
    assert f"{files['events']}:row 41: timestamp: unparseable timestamp" in events.stderr
    assert f"{files['events_jsonl']}:row 1: channel: wrong type" in events.stderr
    seg = run("ingest", "events", files["segment"], "-w", ws)
    assert seg.exit_code == 0
    assert "Segment calls: track 1 (1 loaded), identify 1 (to customers: 1 new), other 1 " \
           "(1 quarantined)" in seg.stdout
    assert f"unsupported Segment call type '{MARKUP}'" in seg.stderr
    customers = run("ingest", "customers", files["customers"], "-w", ws)
    assert customers.exit_code == 0 and "wrong number of fields" in customers.stderr
    for kind, key in (("feedback", "feedback"), ("transactions", "transactions"),
                      ("transcripts", "transcripts"), ("transcripts", "transcript_json")):
        result = run("ingest", kind, files[key], "-w", ws)
        assert result.exit_code == 0, result.output
        assert str(files[key]) in result.stderr  # the file named as it is, in the examples


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["--timestamp-format", "%Q"], ["--timestamp-format", MARKUP], ["--timezone", MARKUP],
    ["--map-column", f"{MARKUP}=customer_id"], ["--map-column", f"event={BOLD}"],
    ["--format", "segment"], ["--format", "tsv"], ["--format", "parquet"],
], ids=lambda a: " ".join(a))
def test_ingest_options_with_hostile_values(args: list[str], ws: Path,
                                            files: dict[str, Path]) -> None:
    run("ingest", "events", files["events"], "-w", ws, *args)


@pytest.mark.slow
@pytest.mark.parametrize("name", [f"no such {MARKUP}.csv", f"{BOLD}.xlsx", "", "-"])
def test_ingest_of_missing_or_odd_files(name: str, ws: Path) -> None:
    result = run("ingest", "events", name, "-w", ws)
    assert result.exit_code == 1


@pytest.mark.slow
def test_status_validate_schema(ws: Path, place: Path) -> None:
    status = run("status", "-w", ws)
    assert status.exit_code == 0 and f"Acme {BOLD} {MARKUP}" in status.stdout
    assert "quarantine:" in status.stdout
    assert json.loads(run("status", "-w", ws, "--json").stdout)["name"] == f"Acme {BOLD} {MARKUP}"
    assert run("validate", "-w", ws).exit_code == 0
    broken = place / "]broken [bold].yaml"  # h[/]broken...
    broken.write_text("id: [/]\ntitle: {bad\n", encoding="utf-8")
    assert run("validate", broken).exit_code == 1
    assert run("validate", place / "none [/].yaml").exit_code == 1
    assert run("schema").exit_code == 0


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    [], ["--json", "-"], ["--all-customers", "--by", "Segment [/]"], ["--by", MARKUP],
    ["--segment", MARKUP], ["--segment", f"plan == '{FORMULA}'"], ["--since", MARKUP],
    ["--funnel", f"{EVENTS[1]},{EVENTS[0]}", "--funnel-level", "event"],
    ["--paths-to", "signup"], ["--paths-from", MARKUP], ["--sections", f"stages,{MARKUP}"],
    ["--fast"],
], ids=lambda a: " ".join(a) or "default")
def test_analyze(args: list[str], ws: Path) -> None:
    result = run("analyze", "hostile", "-w", ws, *args)
    if not args:
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"Hostile {BOLD} {MARKUP} {FORMULA} (hostile)")


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["--by", "Segment [/]"], ["--by", MARKUP], ["--rule", f"a={MARKUP}"],
    ["--rule", f"pro=plan == '{FORMULA}'", "--rule", "rest=plan != 'x'"],
    ["--clusters", "2"], ["--by", "plan", "--churn-event", MARKUP, "--retention", "week"],
    ["--by", "plan", "--inactivity-days", "1"],
], ids=lambda a: " ".join(a))
def test_segments(args: list[str], ws: Path) -> None:
    run("segments", "hostile", "-w", ws, *args)


@pytest.mark.slow
def test_discover_clv_render_new(ws: Path, place: Path, files: dict[str, Path]) -> None:
    assert run("discover", "-w", ws, "--out", f"found {MARKUP}.yaml").exit_code in (0, 1)
    assert run("discover", "-w", ws, "--out", "found.yaml", "--id", BOLD).exit_code in (0, 1)
    run("clv", "-w", ws)
    run("clv", "-w", ws, "--by", MARKUP)
    run("clv", "--transactions", files["transactions"])
    out = place / "] out [bold]"
    out.mkdir(exist_ok=True)
    for ext in ("html", "md", "csv", "json", "xlsx", "mmd"):
        result = run("render", "hostile", "-w", ws, "--out", out / f"map {BOLD}.{ext}")
        assert result.exit_code == 0, (ext, result.output)
        assert (out / f"map {BOLD}.{ext}").is_file()
    assert run("render", "hostile", "-w", ws, "--out", out / f"map {BOLD}.doc").exit_code == 1
    assert run("render", MARKUP, "-w", ws, "--out", out / "x.html").exit_code == 1
    for name in (f"Map {BOLD} {MARKUP}", FORMULA, "ünï ✓ 日本語", "z" * 300):
        run("new", name, "-t", "ecommerce", "-w", ws, "--title", f"{MARKUP} {FORMULA}")
    run("new", "x", "-t", MARKUP, "-w", ws)
    assert run("new", "--list").exit_code == 0
    assert run("validate", "-w", ws).exit_code in (0, 1)
