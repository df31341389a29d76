"""PyTorch modules round-trip through TorchScript (torch is an optional extra)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import shipyard as sy
from tests.models.conftest import Backend, Digits

torch = pytest.importorskip("torch")


class _Net(torch.nn.Module):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(64, 16)
        self.out = torch.nn.Linear(16, 10)

    def forward(self, x: Any) -> Any:
        return self.out(torch.relu(self.hidden(x)))


class _DataDependent(torch.nn.Module):  # type: ignore[misc]
    """Branches on the values of its input: torch.export refuses it, TorchScript takes it."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(64, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.linear(x)
        return -self.linear(x)


@pytest.mark.parametrize(("module", "compiled"), [(_Net, "export"), (_DataDependent, "script")])
def test_torch_round_trip(backend: Backend, digits: Digits, module: type, compiled: str) -> None:
    torch.manual_seed(0)
    net = module()
    x = digits.x.astype(np.float32)
    with backend.run() as run:
        info = run.log_model(net, input_example=x[:4])
    assert info.flavor == "torch"
    assert info.manifest["flavor_options"]["compiled"] == compiled
    model_file = "model.pt2" if compiled == "export" else "model.pt"
    assert set(info.manifest["files"]) == {model_file, "state_dict.pt", "input_example.json"}
    assert [str(s) for s in info.signature.inputs] == ["input float32 [-1, 64]"]

    model = sy.models.load(info.uri, client=backend.client)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(digits.x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x[:1]), expected[:1], rtol=1e-5, atol=1e-6)
    assert not model.has_predict_proba
    assert info.manifest["environment"]["packages"]["torch"] == torch.__version__
    # The state dict loads into the class without unpickling code.
    state = torch.load(sy.download_artifacts(run.id, "model/state_dict.pt"), weights_only=True)
    fresh = module()
    fresh.load_state_dict(state)
