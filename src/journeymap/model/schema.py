"""The JSON Schema (draft 2020-12) of the journey map document.

It is generated from the pydantic models, so it describes exactly what
:func:`journeymap.model.load_map` accepts, shorthands included (a cell may be plain
text, an emotion a number or ``from_data``, a match an event name or a list of them).
"""

from __future__ import annotations

from typing import Any

from journeymap.model.document import SCHEMA_VERSION, JourneyMap

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = f"https://journeymap.dev/schema/map-v{SCHEMA_VERSION}.json"


def map_json_schema() -> dict[str, Any]:
    """The JSON Schema of a map document, as a dict ready for ``json.dumps``."""
    body = JourneyMap.model_json_schema(mode="validation")
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "journeymap map document",
        **{k: v for k, v in body.items() if k != "title"},
    }
