"""The version of journeymap (a module of its own, so that reading it never loads the
rest of the package)."""

__version__ = "0.1.0"
