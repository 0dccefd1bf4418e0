"""docs/map-reference.md is generated from the schema and must be kept up to date
(in the style of datasette's tests/test_docs.py)."""

from __future__ import annotations

import pytest

from journeymap.docs_gen import EXAMPLE, PYTHON_API_PATH, REFERENCE_PATH, main, render_python_api, render_reference
from journeymap.model import load_map_text, map_json_schema


def test_reference_is_up_to_date() -> None:
    assert REFERENCE_PATH.exists(), "run: python -m journeymap.docs_gen"
    assert REFERENCE_PATH.read_text(encoding="utf-8") == render_reference(), (
        "docs/map-reference.md is out of date with the schema; "
        "run: python -m journeymap.docs_gen")


def test_python_api_reference_is_up_to_date() -> None:
    assert PYTHON_API_PATH.read_text(encoding="utf-8") == render_python_api(), (
        "docs/python-api.md is out of date with journeymap.api's docstrings; run: python -m journeymap.docs_gen")


def test_python_api_reference_names_every_public_method() -> None:
    from journeymap import api

    text = render_python_api()
    for cls in (api.Workspace, api.Map, api.Analysis, api.Clv):
        for name in dir(cls):
            if not name.startswith("_") and callable(getattr(cls, name)):
                assert f"`.{name}(" in text, f"{cls.__name__}.{name}"


def test_check_mode_passes() -> None:
    assert main(["--check"]) == 0


@pytest.mark.parametrize("name", sorted(map_json_schema()["$defs"]))
def test_every_object_has_a_section(name: str) -> None:
    assert f"\n## {name}\n" in render_reference()


def test_every_field_is_documented() -> None:
    text = render_reference()
    schema = map_json_schema()
    for body in (schema, *schema["$defs"].values()):
        for field in body.get("properties", {}):
            assert f"| `{field}` |" in text, field


def test_example_is_a_valid_map() -> None:
    jm = load_map_text(EXAMPLE, "docs example")
    assert jm.stages[0].touchpoints[1].match is not None
