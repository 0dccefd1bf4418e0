"""Map templates to start from (``journeymap new NAME --template T``).

Templates are YAML files shipped in ``journeymap/model/templates/``; ``__ID__`` and
``__TITLE__`` are replaced by the new map's id and title, and the comments that explain
the lanes and match rules are kept.  ``future-state`` is made from an existing
current-state map instead of a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from journeymap.errors import JourneymapError
from journeymap.model.document import Emotion, Evidence, EvidenceKind, JourneyMap, MapType
from journeymap.model.yamlio import dump_map, load_map_text

FUTURE_STATE = "future-state"


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    title: str


def _files() -> dict[str, str]:
    folder = resources.files("journeymap.model").joinpath("templates")
    return {f.name.removesuffix(".yaml"): f.read_text(encoding="utf-8")
            for f in folder.iterdir() if f.name.endswith(".yaml")}


def list_templates() -> list[TemplateInfo]:
    """Every template: its name and the first line of its header comment."""
    out = []
    for name, text in sorted(_files().items()):
        first = text.splitlines()[0].lstrip("# ").removeprefix("Template: ")
        out.append(TemplateInfo(name, first))
    out.append(TemplateInfo(FUTURE_STATE, "future state from an existing current-state map (--from MAP)"))
    return out


def slug(name: str) -> str:
    """A map id from a name: lower case, words joined by dashes."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not text:
        raise JourneymapError(f"'{name}': a map name needs at least one letter or digit")
    return text


def template_text(template: str, name: str, title: str | None = None) -> str:
    """The YAML of a new map ``name`` from ``template``, comments kept, validated."""
    files = _files()
    if template not in files:
        known = ", ".join(sorted(files) + [FUTURE_STATE])
        raise JourneymapError(f"unknown template '{template}' (known: {known})")
    title = title or name.replace("-", " ").replace("_", " ").strip().capitalize()
    text = files[template].replace("__ID__", slug(name)).replace("__TITLE__", _yaml_scalar(title))
    load_map_text(text, f"template {template}")  # a template that does not validate is a bug
    return text


def _yaml_scalar(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def future_state(current: JourneyMap, name: str, title: str | None = None) -> str:
    """A future-state map improving ``current``: same stages and touchpoints, pain points
    cleared, opportunities kept as the plan, and each stage's emotion set one step
    better as a target (marked as an assumption until measured)."""
    if current.type != MapType.current_state:
        raise JourneymapError(f"--from {current.id}: a future state improves a current_state map, "
                              f"not a {current.type.value} map")
    jmap = current.model_copy(deep=True)
    jmap.id = slug(name)
    jmap.title = title or f"{current.title} — future state"
    jmap.type = MapType.future_state
    jmap.improves = current.id
    jmap.tags = sorted(set(jmap.tags) | {"future-state"})
    target = Evidence(kind=EvidenceKind.assumption, note=f"target emotion for the future state of {current.id}")
    for stage in jmap.stages:
        emo = stage.lanes.emotion
        base = emo.value if emo is not None and emo.value is not None else 0.0
        stage.lanes.emotion = Emotion(value=min(2.0, base + 1), label="target", evidence=target)
        stage.lanes.pain_points = []
    header = (f"# Future state of '{current.id}': the same stages and touchpoints; pain points cleared,\n"
              "# opportunities kept as the plan, emotions set one step better as targets.\n"
              "# Edit the actions and touchpoints to describe the journey as it should be.\n")
    text = header + dump_map(jmap)
    load_map_text(text, "future state")
    return text
