"""journeymap: data-driven customer journey mapping.

The Python API (docs/python-api.md) is loaded on first use, so that ``import journeymap``
stays quick for the CLI::

    import journeymap as jm
    ws = jm.open_workspace("demo-workspace")
    a = ws.analyze("sme-onboarding-churn")
    a.stages
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from journeymap.errors import JourneymapError
from journeymap.version import __version__

if TYPE_CHECKING:
    from journeymap.api import Analysis, Chart, Clv, Map, MapPage, Workspace, demo, open_workspace

#: the names of journeymap.api this package gives
API = ("Analysis", "Chart", "Clv", "Map", "MapPage", "Workspace", "demo", "open_workspace")

__all__ = ["Analysis", "Chart", "Clv", "JourneymapError", "Map", "MapPage", "Workspace", "__version__",
           "demo", "open_workspace"]


def __getattr__(name: str) -> Any:
    if name in API:
        from journeymap import api

        return getattr(api, name)
    raise AttributeError(f"module 'journeymap' has no attribute '{name}'")
