"""The journey map document: models, YAML I/O, validation, JSON Schema, rules.

``model`` imports nothing else of journeymap's but :mod:`journeymap.errors`.
"""

from journeymap.model.document import JourneyMap
from journeymap.model.rule_eval import evaluate
from journeymap.model.rules import Rule, RuleError, parse_rule
from journeymap.model.schema import map_json_schema
from journeymap.model.validate import validate_maps, validate_paths
from journeymap.model.yamlio import dump_map, load_map, load_map_text, save_map

__all__ = [
    "JourneyMap",
    "Rule",
    "RuleError",
    "dump_map",
    "evaluate",
    "load_map",
    "load_map_text",
    "map_json_schema",
    "parse_rule",
    "save_map",
    "validate_maps",
    "validate_paths",
]
