"""scikit-learn estimators, saved with skops and loaded without pickle.

skops refuses, on load, every type it does not trust by default unless told.
At save time the types skops does not trust are listed and kept in the
manifest (``flavor_options.trusted_types``); each must come from
scikit-learn, numpy or scipy, and none from their file-reading or testing
corners. On load the file's untrusted types must all be on that recorded
list, which is checked against the same rule again: a package whose manifest
lists anything else is refused, ``trust`` or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInputError, UntrustedModelError
from shipyard.models.flavors.base import Saved
from shipyard.models.inputs import Prepared

__all__ = ["FLAVOR", "MODEL_FILE", "SklearnFlavor", "allowed_type"]

MODEL_FILE = "model.skops"
PACKAGES = ["scikit-learn", "skops"]
_ALLOWED_ROOTS = ("sklearn", "numpy", "scipy")
# Inside those libraries, what reads or writes files, or exists for their own tests.
# Matched as plain prefixes: "numpy.load" also refuses loadtxt, "numpy.save" savez.
_DENIED_PREFIXES = (
    "numpy.load",
    "numpy.save",
    "numpy.genfromtxt",
    "numpy.fromregex",
    "numpy.fromfile",
    "numpy.lib._datasource",
    "numpy.DataSource",
    "numpy.memmap",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "numpy.lib.format",
    "numpy.ctypeslib",
    "numpy.f2py",
    "numpy.distutils",
    "numpy.testing",
    "scipy.io",
    "scipy.datasets",
    "scipy._lib._testutils",
    "sklearn.datasets",
    "sklearn.utils._testing",
)


def allowed_type(name: str) -> bool:
    """Whether a type (or function) skops names may be trusted on load."""
    if name.split(".")[0] not in _ALLOWED_ROOTS:
        return False
    return not any(name.startswith(p) for p in _DENIED_PREFIXES) and "._testing" not in name


def _refused(names: Iterable[str]) -> list[str]:
    return sorted(name for name in names if not allowed_type(name))


@dataclass(frozen=True, slots=True)
class _Loaded:
    model: Any

    @property
    def raw(self) -> Any:
        return self.model

    @property
    def has_predict_proba(self) -> bool:
        return hasattr(self.model, "predict_proba")

    def predict(self, prepared: Prepared) -> Any:
        return self.model.predict(prepared)

    def predict_proba(self, prepared: Prepared) -> Any:
        return self.model.predict_proba(prepared)


class SklearnFlavor:
    name = "sklearn"
    needs_trust = False

    def save(self, model: Any, folder: Path, example: Prepared | None) -> Saved:
        import skops.io

        path = folder / MODEL_FILE
        skops.io.dump(model, path)
        untrusted = sorted(skops.io.get_untrusted_types(file=path))
        refused = _refused(untrusted)
        if refused:
            path.unlink()
            raise InvalidInputError(
                f"this {type(model).__name__} holds types from outside scikit-learn, numpy and "
                f"scipy ({', '.join(refused[:5])}), which skops cannot load safely; log it "
                "with flavor='python' (pickled: loading it then needs trust=True)"
            )
        return Saved(
            files=[MODEL_FILE],
            options={"trusted_types": untrusted},
            packages=PACKAGES,
        )

    def load(self, files: Mapping[str, Path], options: Mapping[str, Any]) -> _Loaded:
        import skops.io

        path = files[MODEL_FILE]
        recorded = options.get("trusted_types")
        if not isinstance(recorded, list) or not all(isinstance(t, str) for t in recorded):
            raise UntrustedModelError(
                "the package's manifest has no list of trusted types for model.skops; "
                "Shipyard loads scikit-learn models only against such a list"
            )
        refused = _refused(recorded)
        if refused:
            raise UntrustedModelError(
                f"refusing to load model.skops: its manifest trusts types from outside "
                f"scikit-learn, numpy and scipy ({', '.join(refused[:5])})"
            )
        untrusted = skops.io.get_untrusted_types(file=path)
        unlisted = sorted(set(untrusted) - set(recorded))
        if unlisted:
            raise UntrustedModelError(
                f"refusing to load model.skops: it holds types its manifest does not list "
                f"({', '.join(unlisted[:5])})"
            )
        return _Loaded(skops.io.load(path, trusted=sorted(untrusted)))


FLAVOR = SklearnFlavor()
