"""Reaching a Shipyard server over HTTP: ``RestStore`` and ``RestBlobStore``."""
