"""``shipyard-model.json``: what a model package holds and what it needs.

::

    {"format": 1, "flavor": "sklearn", "flavor_options": {...},
     "signature": {...}, "input_example": "input_example.json" | null,
     "environment": {"python": "3.11.7", "packages": {"scikit-learn": "1.7.2"}},
     "run_id": "...", "artifact_path": "model",
     "datasets": [{"dataset": "digits", "version": 3}],
     "files": {"model.skops": {"digest": "<blake3>", "size": 1234}},
     "predict_proba": true, "created_at": 1700000000000}

The manifest is uploaded last, so a package whose manifest exists is whole; a
registered version pins the manifest's digest, which pins every file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.errors import DataCorruptionError, InvalidInputError
from shipyard.models.signature import Signature
from shipyard.store.hashing import is_digest
from shipyard.validation import validate_artifact_path

__all__ = ["EXAMPLE_FILE", "FORMAT", "MANIFEST_FILE", "FileEntry", "Manifest"]

MANIFEST_FILE = "shipyard-model.json"
EXAMPLE_FILE = "input_example.json"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class FileEntry:
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    flavor: str
    signature: Signature
    environment: dict[str, Any]
    files: dict[str, FileEntry]
    run_id: str | None
    artifact_path: str
    created_at: int
    flavor_options: dict[str, Any] = field(default_factory=dict)
    input_example: str | None = None
    datasets: list[dict[str, Any]] = field(default_factory=list)
    predict_proba: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "flavor": self.flavor,
            "flavor_options": self.flavor_options,
            "signature": self.signature.to_dict(),
            "input_example": self.input_example,
            "environment": self.environment,
            "run_id": self.run_id,
            "artifact_path": self.artifact_path,
            "datasets": self.datasets,
            "files": {
                name: {"digest": entry.digest, "size": entry.size}
                for name, entry in sorted(self.files.items())
            },
            "predict_proba": self.predict_proba,
            "created_at": self.created_at,
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True).encode()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "model manifest") -> Manifest:
        """Parse a manifest; anything malformed is a ``DataCorruptionError`` naming ``where``."""
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r} is not {FORMAT}")
            files = {}
            for name, entry in dict(data["files"]).items():
                validate_artifact_path(name, "package file name")
                if not is_digest(entry["digest"]) or int(entry["size"]) < 0:
                    raise ValueError(f"file {name!r} has no valid digest and size")
                files[name] = FileEntry(str(entry["digest"]), int(entry["size"]))
            example = data.get("input_example")
            if example is not None and example not in files:
                raise ValueError(f"the input example {example!r} is not one of its files")
            return cls(
                flavor=str(data["flavor"]),
                signature=Signature.from_dict(data["signature"]),
                environment=dict(data.get("environment") or {}),
                files=files,
                run_id=data.get("run_id"),
                artifact_path=str(data.get("artifact_path") or ""),
                created_at=int(data.get("created_at") or 0),
                flavor_options=dict(data.get("flavor_options") or {}),
                input_example=example,
                datasets=list(data.get("datasets") or []),
                predict_proba=bool(data.get("predict_proba", False)),
            )
        except (KeyError, TypeError, ValueError, AttributeError, InvalidInputError) as exc:
            raise DataCorruptionError(
                f"{where} is not a valid Shipyard model manifest: {exc}"
            ) from None

    @classmethod
    def from_bytes(cls, raw: bytes, where: str = "model manifest") -> Manifest:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise DataCorruptionError(f"{where} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise DataCorruptionError(f"{where} is not a JSON object")
        return cls.from_dict(data, where)
