"""validate_paths: every file's problems, and references across maps."""

from __future__ import annotations

import shutil
from pathlib import Path

from journeymap.errors import MapIssue
from journeymap.model import validate_paths

from .conftest import FIXTURES


def _map(map_id: str, *, type: str = "current_state", improves: str | None = None,
         submap: str | None = None) -> str:
    lines = [f"id: {map_id}", f"title: {map_id}", f"type: {type}"]
    if improves:
        lines.append(f"improves: {improves}")
    lines += ["goal: {statement: g}", "persona: {name: p}", "scenario: s", "stages:",
              "  - id: one", "    name: One", "    touchpoints:",
              "      - id: tp", "        name: TP", "        channel: web"]
    if submap:
        lines.append(f"        submap: {submap}")
    return "\n".join(lines) + "\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_fixtures_are_valid() -> None:
    paths = [FIXTURES / "saas_onboarding_churn.yaml", FIXTURES / "support_escalation.yaml"]
    assert validate_paths(paths) == []


def test_submap_resolves_among_sibling_files(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "saas_onboarding_churn.yaml", tmp_path)
    path = tmp_path / "saas_onboarding_churn.yaml"
    issues = validate_paths([path])
    assert [(i.line, i.path) for i in issues] == [(174, "stages[2].touchpoints[1].submap")]
    assert issues[0].message == "unknown submap 'support_escalation.yaml': no such file or map id"
    shutil.copy(FIXTURES / "support_escalation.yaml", tmp_path)
    assert validate_paths([path]) == []


def test_submap_by_map_id(tmp_path: Path) -> None:
    main = _write(tmp_path, "main.yaml", _map("main", submap="detail"))
    assert [i.message for i in validate_paths([main])] == [
        "unknown submap 'detail': no such file or map id"]
    _write(tmp_path, "detail.yaml", _map("detail"))
    assert validate_paths([main]) == []


def test_improves_unknown_map(tmp_path: Path) -> None:
    future = _write(tmp_path, "future.yaml", _map("future", type="future_state", improves="today"))
    assert validate_paths([future]) == [
        MapIssue(str(future), 4, "improves", "unknown map 'today'")]


def test_improves_resolves_in_given_files_of_other_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    future = _write(tmp_path / "a", "future.yaml", _map("future", type="future_state", improves="today"))
    today = _write(tmp_path / "b", "today.yaml", _map("today"))
    assert validate_paths([future, today]) == []


def test_future_state_should_improve_a_current_state_map(tmp_path: Path) -> None:
    _write(tmp_path, "churn.yaml", _map("churn", type="churn"))
    future = _write(tmp_path, "future.yaml", _map("future", type="future_state", improves="churn"))
    issues = validate_paths([future])
    assert [(i.line, i.path) for i in issues] == [(4, "improves")]
    assert "a churn map; a future_state map should improve a current_state map" in issues[0].message


def test_map_cannot_improve_itself(tmp_path: Path) -> None:
    path = _write(tmp_path, "self.yaml", _map("loop", type="future_state", improves="loop"))
    assert [i.message for i in validate_paths([path])] == ["a map cannot improve itself"]


def test_duplicate_map_ids(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", _map("same"))
    b = _write(tmp_path, "b.yaml", _map("same"))
    issues = validate_paths([a, b])
    assert [(i.file, i.line, i.path) for i in issues] == [(str(a), 1, "id"), (str(b), 1, "id")]
    assert issues[0].message == f"duplicate map id 'same' (also in {b})"


def test_every_file_is_checked_and_broken_siblings_do_not_matter(tmp_path: Path) -> None:
    broken = _write(tmp_path, "broken.yaml", "id: [unclosed\n")
    bad_schema = _write(tmp_path, "bad.yaml", _map("bad").replace("title: bad\n", ""))
    bad_ref = _write(tmp_path, "ref.yaml", _map("ref", type="future_state", improves="nowhere"))
    _write(tmp_path, "junk.yaml", ": : :\n")
    issues = validate_paths([broken, bad_schema, bad_ref])
    assert [(Path(i.file).name, i.line, i.path) for i in issues] == [
        ("broken.yaml", 2, ""), ("bad.yaml", 1, "title"), ("ref.yaml", 4, "improves")]


def test_in_map_reference_errors_are_reported_with_cross_map_ones(tmp_path: Path) -> None:
    text = _map("m", type="future_state", improves="gone") + "        stage: nowhere\n"
    path = _write(tmp_path, "m.yaml", text)
    assert [str(i) for i in validate_paths([path])] == [
        f"{path}:4: improves: unknown map 'gone'",
        f"{path}:15: stages[0].touchpoints[0].stage: unknown stage 'nowhere'",
    ]


def test_missing_file(tmp_path: Path) -> None:
    issues = validate_paths([tmp_path / "missing.yaml"])
    assert len(issues) == 1 and issues[0].line is None
    assert "cannot read the file" in issues[0].message
