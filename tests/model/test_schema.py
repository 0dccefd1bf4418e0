"""The JSON Schema of the map document."""

from __future__ import annotations

import json
from typing import Any

from journeymap.model import map_json_schema


def _walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node, *[n for v in node.values() for n in _walk(v)]]
    if isinstance(node, list):
        return [n for v in node for n in _walk(v)]
    return []


def test_schema_header() -> None:
    schema = map_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "journeymap map document"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"id", "title", "goal", "persona", "scenario", "stages"}
    json.dumps(schema)  # serialisable


def test_every_object_and_field_is_described() -> None:
    schema = map_json_schema()
    objects = {"JourneyMap": schema, **schema["$defs"]}
    for name, body in objects.items():
        assert body.get("description"), name
        for field, spec in body.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field}"


def test_references_resolve() -> None:
    schema = map_json_schema()
    for node in _walk(schema):
        if "$ref" in node:
            assert node["$ref"].startswith("#/$defs/")
            assert node["$ref"].split("/")[-1] in schema["$defs"]


def test_shorthands_are_in_the_schema() -> None:
    defs = map_json_schema()["$defs"]
    actions = defs["Lanes"]["properties"]["actions"]["items"]
    assert {"type": "string"} in actions["anyOf"]
    emotion = defs["Lanes"]["properties"]["emotion"]["anyOf"]
    assert any(option.get("type") == "number" for option in _walk(emotion))
    match = defs["Touchpoint"]["properties"]["match"]["anyOf"]
    assert any(option.get("type") == "array" for option in _walk(match))


def test_ids_carry_the_pattern() -> None:
    stage_id = map_json_schema()["$defs"]["Stage"]["properties"]["id"]
    assert stage_id["pattern"] == "^[a-z0-9][a-z0-9_\\-]*$"
