"""journeymap: data-driven customer journey mapping."""

from journeymap.errors import JourneymapError

__version__ = "0.1.0"
__all__ = ["JourneymapError", "__version__"]
