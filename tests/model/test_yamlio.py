"""Reading and writing maps: round trips, and errors with file:line: path: message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.errors import MapIssue, MapValidationError
from journeymap.model import JourneyMap, dump_map, load_map, load_map_text, save_map
from journeymap.model.document import MapType

from .conftest import FIXTURES


def test_fixture_loads(saas_map_path: Path) -> None:
    jm = load_map(saas_map_path)
    assert jm.type is MapType.churn
    assert jm.goal.kpi is not None and jm.goal.kpi.target == pytest.approx(0.187)
    assert [s.id for s in jm.stages] == ["onboarding", "adoption", "support", "renewal"]
    tps = {tp.id: tp for tp in jm.touchpoints}
    assert tps["welcome-email"].match is not None and tps["welcome-email"].match.event == "welcome_email_opened"
    assert tps["setup-wizard"].match.event_in == ["wizard_started", "wizard_step_completed", "wizard_finished"]  # type: ignore[union-attr]
    assert tps["invoice-sent"].match.event_regex == "^invoice_(sent|resent)$"  # type: ignore[union-attr]
    assert tps["help-center"].stage == "support"
    onboarding = jm.stages[0].lanes
    assert onboarding.actions[0].text == "Opens the welcome email and logs in"
    assert onboarding.emotion is not None and onboarding.emotion.value == 1
    assert jm.stages[2].lanes.emotion is not None and jm.stages[2].lanes.emotion.from_data


@pytest.mark.parametrize("name", ["saas_onboarding_churn.yaml", "support_escalation.yaml"])
def test_round_trip(name: str, tmp_path: Path) -> None:
    original = load_map(FIXTURES / name)
    text = dump_map(original)
    assert load_map_text(text) == original
    save_map(original, tmp_path / name)
    assert load_map(tmp_path / name) == original
    assert dump_map(load_map(tmp_path / name)) == text


def test_dump_is_readable(saas_map_path: Path) -> None:
    text = dump_map(load_map(saas_map_path))
    assert text.startswith("journeymap: 1\nid: sme-onboarding-churn\n")
    assert "- Opens the welcome email and logs in\n" in text  # cells stay plain text
    assert "match: welcome_email_opened\n" in text  # match shorthand kept
    assert "emotion: from_data\n" in text and "emotion: 2\n" in text
    assert "visibility: frontstage" not in text  # defaults left out
    assert "deadline: 2027-06-30\n" in text  # dates stay dates
    assert ": null" not in text and "[]" not in text and "{}" not in text


def test_dump_keeps_multiline_text_readable() -> None:
    jm = load_map(FIXTURES / "support_escalation.yaml")
    jm.description = "First line.\nSecond line."
    text = dump_map(jm)
    assert "description: |-\n  First line.\n  Second line.\n" in text
    assert load_map_text(text) == jm


VALID = """\
id: onboarding
title: Onboarding
goal:
  statement: More activated accounts
persona:
  name: Olivia
scenario: First week with the product
stages:
  - id: signup
    name: Sign up
    touchpoints:
      - id: signup-form
        name: Signup form
        channel: web
        match: signup_completed
"""


def _doc(text: str) -> str:
    return textwrap.dedent(text)


# (case, yaml, line, path, message fragment)
BROKEN = [
    ("unknown field", VALID.replace("        channel: web", "        stgae: signup\n        channel: web"),
     14, "stages[0].touchpoints[0].stgae", "unknown field 'stgae' (did you mean 'stage'?)"),
    ("missing title", VALID.replace("title: Onboarding\n", ""), 1, "title", "field required"),
    ("missing field in list item", VALID.replace("    name: Sign up\n", ""),
     9, "stages[0].name", "field required"),
    ("bad enum", VALID + "stage_kind: funel\n", 16, "stage_kind",
     "input should be 'funnel', 'location', 'time_of_day', 'support_case' or 'custom'"),
    ("bad id", VALID.replace("id: signup\n", "id: Sign Up\n"), 9, "stages[0].id",
     "should be an id of lowercase letters"),
    ("empty stages", VALID.split("stages:")[0] + "stages: []\n", 8, "stages", "needs at least 1 item"),
    ("emotion out of range", VALID + "    lanes:\n      emotion: 3\n", 17, "stages[0].lanes.emotion",
     "less than or equal to 2"),
    ("bad rule", VALID.replace("match: signup_completed", "match:\n          where: plan = 'pro'"),
     16, "stages[0].touchpoints[0].match.where", "use '==' to compare, not '=' (column 6)"),
    ("future without improves", VALID.replace("title: Onboarding\n", "title: Onboarding\ntype: future_state\n"),
     1, "improves", "must name the current-state map it improves"),
    ("deadline not a date", VALID.replace("  statement: More activated accounts\n",
                                          "  statement: More\n  kpi:\n    metric: nps\n    target: 40\n"
                                          "    deadline: next spring\n"),
     8, "goal.kpi.deadline", "should be a date like 2026-06-30"),
    ("goal kpi without target", VALID.replace("  statement: More activated accounts\n",
                                              "  statement: More\n  kpi:\n    metric: nps\n"),
     5, "goal.kpi.target", "field required"),
    ("bad evidence kind", VALID + "    lanes:\n      actions:\n        - text: Fills the form\n"
     "          evidence: {kind: hunch}\n", 19, "stages[0].lanes.actions[0].evidence.kind",
     "input should be 'research', 'data' or 'assumption' (got 'hunch')"),
    ("cell is a number", VALID + "    lanes:\n      actions:\n        - 42\n", 18,
     "stages[0].lanes.actions[0]", "should be a mapping of key: value (got a number)"),
    ("bad regex", VALID.replace("match: signup_completed", "match: {event_regex: 'sign(up'}"),
     15, "stages[0].touchpoints[0].match.event_regex", "invalid regex"),
    ("unknown stage", VALID + "      - id: checkout\n        name: Checkout\n        channel: web\n"
     "        stage: purchase\n", 19, "stages[0].touchpoints[1].stage", "unknown stage 'purchase'"),
    ("duplicate stage id", VALID + "  - id: signup\n    name: Again\n", 16, "stages[1].id",
     "duplicate stage id 'signup' (first at stages[0])"),
    ("duplicate touchpoint id", VALID + "  - id: activate\n    name: Activate\n    touchpoints:\n"
     "      - id: signup-form\n        name: Again\n        channel: app\n", 19,
     "stages[1].touchpoints[0].id", "duplicate touchpoint id 'signup-form'"),
    ("cell names unknown touchpoint", VALID + "    lanes:\n      pain_points:\n"
     "        - text: Slow form\n          touchpoint: signup-from\n", 19,
     "stages[0].lanes.pain_points[0].touchpoint", "unknown touchpoint 'signup-from'"),
    ("kpi names unknown touchpoint", VALID + "    lanes:\n      kpis:\n        - metric: csat\n"
     "          touchpoint: nowhere\n", 19, "stages[0].lanes.kpis[0].touchpoint",
     "unknown touchpoint 'nowhere'"),
    ("undeclared custom lane", VALID + "    lanes:\n      custom:\n        channels: [web]\n", 18,
     "stages[0].lanes.custom.channels", "custom lane 'channels' is not declared in custom_lanes"),
    ("yaml syntax: bad indentation", VALID.replace("    name: Sign up", "   name: Sign up"), 10, "",
     "YAML syntax error"),
    ("yaml syntax: duplicate key", VALID.replace("scenario: First", "title: Again\nscenario: First"),
     7, "", "YAML syntax error: found duplicate key \"title\""),
    ("yaml syntax: unclosed flow", VALID + "tags: [a, b\n", 17, "", "YAML syntax error"),
    ("not a mapping", "- id: onboarding\n", 1, "", "a map should be a mapping"),
    ("empty document", "# nothing yet\n", 1, "", "the document is empty"),
    ("control character", VALID.replace("Olivia", "Oli\x1fvia"), 6, "",
     "YAML syntax error: character '\\x1f' is not allowed"),
]


@pytest.mark.parametrize(("case", "text", "line", "path", "fragment"), BROKEN,
                         ids=[case[0] for case in BROKEN])
def test_broken_documents(case: str, text: str, line: int, path: str, fragment: str) -> None:
    with pytest.raises(MapValidationError) as info:
        load_map_text(text, "maps/onboarding.yaml")
    issue = info.value.issues[0]
    assert (issue.file, issue.line, issue.path) == ("maps/onboarding.yaml", line, path), issue
    assert fragment in issue.message
    assert "https://" not in issue.message and "\n" not in str(issue)
    assert str(info.value).startswith(f"maps/onboarding.yaml:{line}:")


def test_unknown_stage_message_exactly() -> None:
    text = _doc("""\
        id: onboarding
        title: Onboarding
        goal: {statement: More activated accounts}
        persona: {name: Olivia}
        scenario: First week with the product
        stages:
          - {id: signup, name: Sign up}
          - {id: activate, name: Activate}
          - id: pay
            name: Pay
            touchpoints:
              - id: checkout
                name: Checkout
                stage: purchase
                channel: web
        """)
    with pytest.raises(MapValidationError) as info:
        load_map_text(text, "maps/onboarding.yaml")
    assert [str(i) for i in info.value.issues] == [
        "maps/onboarding.yaml:14: stages[2].touchpoints[0].stage: unknown stage 'purchase'"
    ]


def test_every_schema_error_is_reported() -> None:
    text = VALID.replace("title: Onboarding\n", "").replace("channel: web", "channel: web\n        colour: red")
    with pytest.raises(MapValidationError) as info:
        load_map_text(text, "m.yaml")
    assert [(i.line, i.path) for i in info.value.issues] == [
        (1, "title"), (14, "stages[0].touchpoints[0].colour")]
    assert str(info.value).endswith("(and 1 more)")


def test_union_errors_collapse_to_one_issue() -> None:
    text = VALID.replace("  name: Olivia\n", "  name: Olivia\n  demographics:\n    age: [1, 2]\n")
    with pytest.raises(MapValidationError) as info:
        load_map_text(text)
    assert [(i.line, i.path) for i in info.value.issues] == [(8, "persona.demographics.age")]


def test_load_map_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MapValidationError) as info:
        load_map(tmp_path / "nope.yaml")
    assert info.value.issues == [MapIssue(str(tmp_path / "nope.yaml"), None, "",
                                          "cannot read the file: No such file or directory")]


def test_load_map_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID.replace("Olivia", "Zoë").encode("latin-1"))
    with pytest.raises(MapValidationError, match="not UTF-8"):
        load_map(path)


def test_model_api_without_yaml() -> None:
    jm = JourneyMap.model_validate({
        "id": "m", "title": "M", "goal": {"statement": "g"}, "persona": {"name": "p"},
        "scenario": "s", "stages": [{"id": "a", "name": "A", "lanes": {"actions": ["do it"]}}],
    })
    assert jm.stages[0].lanes.actions[0].text == "do it"
    assert load_map_text(dump_map(jm)) == jm


_YAML_BITS = st.sampled_from([
    "id: m\n", "title: T\n", "goal: {statement: g}\n", "persona: {name: p}\n", "scenario: s\n",
    "stages:\n", "  - id: a\n", "    name: A\n", "    lanes: {emotion: 7}\n", "1: x\n",
    "    touchpoints: [{id: t, name: T, channel: web, match: 3}]\n", "- x\n", "  : y\n",
    "type: future_state\n", "<<: {a: 1}\n", "&a x: *a\n", "tags: [\n", "\t\n", "'\n",
    "custom_lanes: [{id: c, name: C}]\n", "    lanes: {custom: {c: [1, {text: ''}]}}\n",
    "persona: {name: p, segment: 'a ='}\n", "journeymap: 2026-01-01 10:00:00\n",
])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_YAML_BITS, max_size=10).map("".join)))
def test_load_only_raises_map_validation_error(text: str) -> None:
    try:
        load_map_text(text)
    except MapValidationError as exc:
        assert exc.issues and all("\n" not in str(i) for i in exc.issues)
