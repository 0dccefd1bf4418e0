"""The persona library: personas kept beside the maps (``personas/ID.yaml``), reused by
any number of maps.

A map holds its persona in full (the map stays one self-contained document); the
library is where a team keeps the personas it has researched.  Using a library persona
in a map writes its fields into the map (:func:`persona_edits`, the editor's
``set_field`` operations, so the map's comments and key order stay), and a map "uses"
a library persona when their names match — :func:`differences` then says whether the
map's copy is still the same.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from journeymap.errors import JourneymapError
from journeymap.model.document import Persona

#: the persona's fields in the order a file writes them
FIELDS = tuple(Persona.model_fields)


class PersonaError(JourneymapError):
    """A persona that is not valid: the field and the reason, in one line."""


def parse_persona(data: Any, file: str = "persona") -> Persona:
    """A :class:`Persona` from a mapping (a file's YAML or a form), or a
    :class:`PersonaError` naming the first wrong field."""
    if not isinstance(data, Mapping):
        raise PersonaError(f"{file}: a persona is a mapping of fields ({', '.join(FIELDS)})")
    unknown = [k for k in data if k not in FIELDS]
    if unknown:
        raise PersonaError(f"{file}: unknown field '{unknown[0]}' (fields: {', '.join(FIELDS)})")
    try:
        return Persona.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise PersonaError(f"{file}: {where}: {message}") from None


def read_persona(text: str, file: str) -> Persona:
    try:
        data = YAML(typ="safe").load(text)
    except Exception as exc:  # noqa: BLE001 - any YAML error is the file's
        raise PersonaError(f"{file}: not YAML: {str(exc).splitlines()[0]}") from None
    return parse_persona(data, file)


def persona_data(persona: Persona) -> dict[str, Any]:
    """The persona's set fields, in file order (empty lists and None left out)."""
    dumped = persona.model_dump(mode="json")
    return {k: dumped[k] for k in FIELDS if dumped.get(k) not in (None, [], {}, "")}


def persona_yaml(persona: Persona) -> str:
    """The persona as a library file's YAML text."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(persona_data(persona), buf)
    return buf.getvalue()


def persona_edits(persona: Persona, current: Persona | None = None) -> list[dict[str, Any]]:
    """The editor's operations that make a map's persona (``current``) this one: one per
    field that differs (all of them without ``current``); a field the library persona
    leaves empty is removed from the map."""
    data = persona_data(persona)
    fields = differences(persona, current) if current is not None else list(FIELDS)
    return [{"op": "set_field", "field": f"persona.{k}", "value": data.get(k)} for k in fields]


def differences(library: Persona, in_map: Persona) -> list[str]:
    """The fields in which a map's persona differs from the library's (in file order)."""
    a, b = persona_data(library), persona_data(in_map)
    return [k for k in FIELDS if a.get(k) != b.get(k)]
