"""Experiment tracking: runs, params, metrics, tags, artifacts, search and comparison.

The public names are exported by :mod:`shipyard` (``import shipyard as sy``).
"""
