"""Data versioning: ``sy.data.add``, ``sy.data.get``, ``sy.data.versions``, ``sy.data.diff``,
``sy.data.log_table``, ``sy.data.load_table``.

::

    import shipyard as sy

    v = sy.data.add("data/mnist", name="mnist", message="first cut")
    folder = sy.data.get("datasets:/mnist@latest")
    sy.data.diff("datasets:/mnist/1", "datasets:/mnist/2").added

A version is an immutable manifest of files (path, size, BLAKE3 digest,
executable bit) whose contents live once in the content-addressed blob store.
"""

from shipyard.data.add import AddResult
from shipyard.data.api import add, add_files, diff, files, get, resolve, versions
from shipyard.data.diff import DatasetDiff
from shipyard.data.manifest import Manifest, ManifestEntry
from shipyard.data.scan import Skipped
from shipyard.data.tables import load_table, log_table
from shipyard.data.uris import DatasetRef, parse_dataset_ref, parse_dataset_uri

__all__ = [
    "AddResult",
    "DatasetDiff",
    "DatasetRef",
    "Manifest",
    "ManifestEntry",
    "Skipped",
    "add",
    "add_files",
    "diff",
    "files",
    "get",
    "load_table",
    "log_table",
    "parse_dataset_ref",
    "parse_dataset_uri",
    "resolve",
    "versions",
]
