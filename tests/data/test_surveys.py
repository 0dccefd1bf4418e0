"""Survey-platform exports load unchanged (issue 10, point 7).

The four files in ``tests/fixtures/surveys`` are shaped like exports of Qualtrics (two
extra header rows, dates in the account's zone), SurveyMonkey (one row of answer
kinds, US dates, choice labels with their number), Typeform (a hidden field, a
question text holding ``=``) and Google Forms (M/D/YYYY dates, e-mail as the
respondent).  Each has the same 12 responses: 20 answers, 4 blank answers, one
response answering nothing, one NPS of 11 and one CSAT of "abc".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeymap.cli import main
from journeymap.data.contracts import SourceConfig
from journeymap.data.ingest import ingest
from journeymap.data.store import Store
from journeymap.errors import ConfigError, IngestError
from journeymap.metrics.feedback import feedback_section
from journeymap.workspace import Workspace

SURVEYS = Path(__file__).parent.parent / "fixtures" / "surveys"

SM_NPS = "How likely is it that you would recommend Acme to a friend or colleague?"
TF_CES = "How easy was it to set up your account? (1 = very hard, 7 = very easy)"
EXPORTS = {
    "qualtrics": SourceConfig(columns={"ExternalReference": "customer_id", "Q3": "comment"},
                              scores={"Q1": "nps", "Q2": "csat"}, constants={"channel": "email"}),
    "surveymonkey": SourceConfig(
        columns={"Custom Data 1": "customer_id", "Any other comments?": "comment"},
        scores={SM_NPS: "nps", "How satisfied were you with our support?": "csat"}),
    "typeform": SourceConfig(columns={"Anything else you'd like to tell us?": "comment"},
                             scores={"How likely are you to recommend Acme?": "nps", TF_CES: "ces"}),
    "google_forms": SourceConfig(
        columns={"Email Address": "customer_id", "Comments": "comment"},
        scores={"How likely are you to recommend us to a friend?": "nps",
                "How satisfied are you with your delivery?": "csat"}),
}
#: the NPS answers that load (11 is quarantined, two are blank): 4 promoters, 3 detractors
NPS_LOADED = [10, 9, 3, 7, 8, 0, 10, 6, 9]


def _load(name: str, source: SourceConfig | None = None):  # noqa: ANN202
    store = Store.memory()
    report = ingest(store, "feedback", [SURVEYS / f"{name}.csv"], source=source or EXPORTS[name])
    return store, report


@pytest.mark.parametrize("name", list(EXPORTS))
def test_every_answer_loads_or_is_quarantined_once(name: str) -> None:
    store, report = _load(name)
    assert (report.rows_read, report.loaded, report.quarantined, report.duplicates) == (20, 18, 2, 0)
    con = store.con
    nps = sorted(int(s) for (s,) in con.execute("SELECT score FROM feedback WHERE metric = 'nps'").fetchall())
    assert nps == sorted(NPS_LOADED)
    q = con.execute("SELECT field, reason, raw FROM quarantine ORDER BY row").fetchall()
    assert [r[1] for r in q] == ["nps score must be an integer 0-10", "not a number"]
    questions = list(EXPORTS[name].scores)
    nps_q = next(c for c, m in EXPORTS[name].scores.items() if m == "nps")
    assert q[0][0] == nps_q and q[1][0] in questions  # the field is the question asked
    assert json.loads(q[0][2])[nps_q] == "11"  # the raw record is the whole response
    # the comment goes with the first answer of a response only
    comments = con.execute("SELECT count(*), count(DISTINCT comment) FROM feedback "
                           "WHERE comment IS NOT NULL").fetchone()
    assert comments == (6, 6)
    # each answer keeps its question
    kept = {json.loads(x)["question"] for (x,) in con.execute("SELECT extra FROM feedback").fetchall()}
    assert kept == set(questions)
    assert any("20 answers" in n and "4 blank answers skipped" in n and "1 response answered none" in n
               for n in report.notes)
    store.close()


def test_qualtrics_layout_is_recognised() -> None:
    store, report = _load("qualtrics")
    said = " ".join(report.notes)
    assert "a Qualtrics export: skipped its 2 rows under the header" in said
    assert "response time from 'RecordedDate', in America/Denver" in said
    # 2026-03-02 09:14:55 in Denver (MST, UTC-7) is 16:14:55 UTC
    ts = store.con.execute("SELECT min(timestamp) FROM feedback WHERE customer_id = 'C001'").fetchone()[0]
    assert ts.isoformat() == "2026-03-02T16:14:55"
    channels = {json.loads(x)["channel"] for (x,) in store.con.execute("SELECT extra FROM feedback").fetchall()}
    assert channels == {"email"}  # --set channel=email
    rows = [r for (r,) in store.con.execute("SELECT row FROM quarantine ORDER BY row").fetchall()]
    assert rows == [11, 13]  # file records (header excluded): the 9th and 11th responses
    store.close()


def test_explicit_skip_rows_wins_over_the_layout() -> None:
    src = EXPORTS["qualtrics"]
    store, report = _load("qualtrics", SourceConfig(columns={**src.columns, "RecordedDate": "timestamp"},
                                                    scores=src.scores, skip_rows=0))
    # the question texts and the import ids are read as a response each: not a timestamp
    assert report.quarantined == 2 + 4 and report.loaded == 18
    assert "a Qualtrics export: skipped 0 rows under the header (--skip-rows)" in " ".join(report.notes)
    store.close()


def test_surveymonkey_choice_labels_load_as_their_number() -> None:
    store, report = _load("surveymonkey")
    assert "a SurveyMonkey export: skipped its 1 row under the header (answer kinds;" in " ".join(report.notes)
    got = store.con.execute("SELECT score FROM feedback WHERE metric = 'csat' AND customer_id = 'C001'"
                            ).fetchone()
    assert got == (5.0,)  # "5 - Very satisfied"
    store.close()


def test_feedback_kpis_from_a_survey_export(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    ws.ingest("feedback", [SURVEYS / "google_forms.csv"], **{
        "columns": EXPORTS["google_forms"].columns, "scores": EXPORTS["google_forms"].scores})
    assert CliRunner().invoke(main, ["new", "m", "--template", "ecommerce", "-w", str(ws.root)]).exit_code == 0
    nps = feedback_section(ws.store.ibis(), ws.load_map("m"))["journey"]["nps"]
    assert nps["n"] == 9 and nps["value"] == pytest.approx(100 * (4 - 3) / 9, abs=0.01)
    ws.close()


def test_cli_and_toml(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    assert runner.invoke(main, ["init", str(ws)]).exit_code == 0
    done = runner.invoke(main, ["ingest", "feedback", str(SURVEYS / "typeform.csv"), "-w", str(ws),
                                "--score-column", "How likely are you to recommend Acme?=nps",
                                "--score-column", f"{TF_CES}=ces", "--set", "touchpoint=onboarding"])
    assert done.exit_code == 0, done.output
    assert "18 loaded, 2 quarantined" in done.output and "a Typeform export" in done.output
    bad = runner.invoke(main, ["ingest", "feedback", str(SURVEYS / "typeform.csv"), "-w", str(ws),
                               "--score-column", "Q9=nps"])
    assert bad.exit_code == 1 and "score column 'Q9' is not in the file" in bad.output
    assert "Traceback" not in bad.output
    (ws / "journeymap.toml").write_text(
        (ws / "journeymap.toml").read_text()
        + '\n[sources.feedback]\nskip_rows = 1\n[sources.feedback.columns]\n'
          '"Custom Data 1" = "customer_id"\n[sources.feedback.scores]\n'
          f'"{SM_NPS}" = "nps"\n[sources.feedback.set]\ntouchpoint = "support"\n')
    done = runner.invoke(main, ["ingest", "feedback", str(SURVEYS / "surveymonkey.csv"), "-w", str(ws)])
    assert done.exit_code == 0, done.output
    assert "9 loaded, 1 quarantined" in done.output  # the nps answers only
    with Workspace.open(ws) as w:
        tps = dict(w.store.con.execute("SELECT touchpoint, count(*) FROM feedback GROUP BY 1").fetchall())
    assert tps == {"onboarding": 18, "support": 9}


def test_bad_settings_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="for feedback exports only"):
        ingest(Store.memory(), "events", [SURVEYS / "typeform.csv"],
               source=SourceConfig(scores={"#": "nps"}))
    with pytest.raises(ConfigError, match="skip_rows"):
        SourceConfig(skip_rows=-1)
    with pytest.raises(IngestError, match="has its own 'score' column"):
        f = tmp_path / "s.csv"
        f.write_text("customer_id,timestamp,score,Q1\nA,2026-01-01,3,9\n")
        ingest(Store.memory(), "feedback", [f], source=SourceConfig(scores={"Q1": "nps"}))
