"""PyTorch modules: an exported program (or TorchScript) for loading, the state dict for
retraining.

Neither format needs the Python class that defined the module, and neither
unpickles code. With an input example the module is captured with
``torch.export`` (``model.pt2``, the batch dimension left dynamic); a module
that export cannot capture, or one logged without an example, is compiled
with TorchScript (``model.pt``: ``torch.jit.script``, else traced on the
example). ``state_dict.pt`` holds the weights alone, for code that has the
class (``torch.load(..., weights_only=True)``). Predictions run on the CPU
without gradients; the output is the module's first output. torch is an
optional extra and imported only here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError
from shipyard.models.flavors.base import Saved
from shipyard.models.inputs import Prepared

__all__ = ["EXPORT_FILE", "FLAVOR", "SCRIPT_FILE", "STATE_FILE", "TorchFlavor"]

EXPORT_FILE = "model.pt2"
SCRIPT_FILE = "model.pt"
STATE_FILE = "state_dict.pt"
PACKAGES = ["torch"]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise InvalidInputError(
            "the torch flavor needs PyTorch: pip install 'shipyard[torch]'"
        ) from None
    return torch


@contextmanager
def _jit_quietly() -> Iterator[None]:
    # TorchScript is deprecated in recent torch, yet it is the fallback for modules that
    # torch.export cannot capture: its warnings tell a Shipyard user nothing to do.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _as_numpy(output: Any) -> Any:
    if isinstance(output, tuple | list):
        output = output[0]
    return output.detach().cpu().numpy()


@dataclass(frozen=True, slots=True)
class _Loaded:
    module: Any

    @property
    def raw(self) -> Any:
        return self.module

    @property
    def has_predict_proba(self) -> bool:
        return False

    def predict(self, prepared: Prepared) -> Any:
        torch = _torch()
        tensor = torch.from_numpy(np.ascontiguousarray(np.asarray(prepared)))
        with torch.inference_mode():
            return _as_numpy(self.module(tensor))

    def predict_proba(self, prepared: Prepared) -> Any:
        raise NotImplementedError


def _export(torch: Any, model: Any, example: np.ndarray[Any, Any], path: Path) -> bool:
    """Save ``model`` captured by torch.export; False when it cannot be captured."""
    if len(example) < 2:  # a batch of one would fix the batch dimension at 1
        example = np.concatenate([example, example])
    tensor = torch.from_numpy(np.ascontiguousarray(example))
    try:
        program = torch.export.export(
            model, (tensor,), dynamic_shapes=({0: torch.export.Dim("batch")},)
        )
    except Exception:  # export refuses data-dependent control flow and more: fall back
        return False
    torch.export.save(program, str(path))
    return True


def _script(torch: Any, model: Any, example: np.ndarray[Any, Any] | None, path: Path) -> str:
    with _jit_quietly():
        try:
            compiled = torch.jit.script(model)
            how = "script"
        except Exception as exc:  # many modules do not script; tracing on the example works
            if example is None:
                raise InvalidInputError(
                    f"torch.jit.script cannot compile this {type(model).__name__} ({exc}); "
                    "give input_example= so that it can be exported or traced"
                ) from None
            compiled = torch.jit.trace(model, torch.from_numpy(np.ascontiguousarray(example)))
            how = "trace"
        compiled.save(str(path))
    return how


class TorchFlavor:
    name = "torch"
    needs_trust = False

    def save(self, model: Any, folder: Path, example: Prepared | None) -> Saved:
        torch = _torch()
        if not isinstance(model, torch.nn.Module):
            raise InvalidInputError(f"the torch flavor takes a torch.nn.Module, not {type(model)}")
        if example is not None and not isinstance(example, np.ndarray):
            raise InvalidInputError("a torch model's input example must be a numpy array")
        was_training = model.training
        model.eval()
        try:
            if example is not None and _export(torch, model, example, folder / EXPORT_FILE):
                compiled, how = EXPORT_FILE, "export"
            else:
                compiled, how = SCRIPT_FILE, _script(torch, model, example, folder / SCRIPT_FILE)
            torch.save(model.state_dict(), folder / STATE_FILE)
        finally:
            model.train(was_training)
        cls = type(model)
        return Saved(
            files=[compiled, STATE_FILE],
            options={"compiled": how, "class": f"{cls.__module__}.{cls.__qualname__}"},
            packages=PACKAGES,
        )

    def load(self, files: Mapping[str, Path], options: Mapping[str, Any]) -> _Loaded:
        torch = _torch()
        if EXPORT_FILE in files:
            return _Loaded(torch.export.load(str(files[EXPORT_FILE])).module())
        with _jit_quietly():
            module = torch.jit.load(str(files[SCRIPT_FILE]), map_location="cpu")
        module.eval()
        return _Loaded(module)


FLAVOR = TorchFlavor()
