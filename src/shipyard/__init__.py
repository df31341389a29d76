"""Shipyard: experiment tracking, data versioning, model registry, serving and monitoring."""

from shipyard._version import __version__

__all__ = ["__version__"]
