"""What every flavor does: save a model into a folder, load it back, predict.

A flavor's ``save`` writes its files into a folder and says which options and
packages the manifest must record; ``load`` turns those files back into a
:class:`Native` model that predicts on prepared input (see
:mod:`shipyard.models.inputs`). Flavors never touch a store: packaging and
loading (``shipyard.models.package`` / ``loading``) do that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shipyard.models.inputs import Prepared
from shipyard.models.signature import Signature

__all__ = ["Flavor", "Native", "Saved"]


@dataclass(frozen=True, slots=True)
class Saved:
    """What a flavor wrote: file names (relative to the folder), manifest options, the
    distributions it needs, and the input signature it knows without an example."""

    files: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    packages: list[str] = field(default_factory=list)
    signature: Signature | None = None


class Native(Protocol):
    """A loaded model in its flavor's own terms; takes prepared input."""

    @property
    def raw(self) -> Any: ...

    @property
    def has_predict_proba(self) -> bool: ...

    def predict(self, prepared: Prepared) -> Any: ...

    def predict_proba(self, prepared: Prepared) -> Any: ...


class Flavor(Protocol):
    name: str
    # Loading runs code from the package's files (pickle): only with trust.
    needs_trust: bool

    def save(self, model: Any, folder: Path, example: Prepared | None) -> Saved: ...

    def load(self, files: Mapping[str, Path], options: Mapping[str, Any]) -> Native: ...
