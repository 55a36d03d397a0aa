"""Networks through strategies, safe and strict checkpoint loading."""
import collections

import pytest
import torch
from torch import nn

from matbench.errors import InputError, MatbenchError
from matbench.evaluation.options import make_job
from matbench.networks import load_state_dict, load_strict
from matbench.evaluation.run import evaluate
from matbench.registry import MODELS, STRATEGIES


@MODELS.register_module(force=True)
class _GreyNet(nn.Module):
    """A 1x1 conv from RGB to alpha: enough to exercise weights, devices and strategies."""

    def __init__(self):
        super().__init__()
        self.head = nn.Conv2d(3, 1, 1)

    def forward(self, x):
        return torch.sigmoid(self.head(x))


@STRATEGIES.register_module(force=True)
class _Native:
    def __call__(self, network, image):
        return network(image.float())[0, 0]


def test_strict_loading_names_mismatched_keys(tmp_path):
    net = _GreyNet()
    state = collections.OrderedDict(net.state_dict())
    state["extra.weight"] = torch.zeros(1)
    state["head.bias"] = torch.zeros(2)
    del state["head.weight"]
    path = tmp_path / "bad.pth"
    torch.save({"state_dict": state}, path)
    with pytest.raises(InputError) as err:
        load_strict(net, path)
    msg = str(err.value)
    assert msg.startswith(str(path)) and "missing: head.weight" in msg
    assert "unexpected: extra.weight" in msg and "mis-shaped: head.bias (2,) vs (1,)" in msg


class _RunsCode:
    """Unpickling this calls a function: exactly what weights_only loading must refuse."""

    def __reduce__(self):
        return (print, ("this checkpoint ran code",))


def test_loading_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "obj": _RunsCode()}, path)
    with pytest.raises(InputError, match="cannot load checkpoint safely"):
        load_state_dict(path)


def test_network_with_strategy_end_to_end(tiny_aim500, tmp_path):
    net = _GreyNet()
    with torch.no_grad():
        net.head.weight.fill_(0.5)
        net.head.bias.fill_(-0.7)
    torch.save({"state_dict": net.state_dict()}, tmp_path / "w.pth")   # official layout
    torch.save(net.state_dict(), tmp_path / "plain.pth")               # plain state dict
    rows = []
    for ckpt in ("w.pth", "plain.pth"):
        job = make_job(dataset="aim500", data_root=tiny_aim500, model="_GreyNet", strategy="_Native",
                       checkpoint=tmp_path / ckpt, work_dir=tmp_path / f"run-{ckpt}", workers=0, metric_workers=0)
        results = evaluate(job)
        assert results["meta"]["source"]["strategy"] == {"type": "_Native"}
        rows.append(results["per_image"])
    assert rows[0] == rows[1]


def test_network_without_weights_is_refused(tiny_aim500, tmp_path):
    with pytest.raises(MatbenchError, match="no weights"):
        make_job(dataset="aim500", data_root=tiny_aim500, model="_GreyNet", strategy="_Native",
                 work_dir=tmp_path)
    job = make_job(dataset="aim500", data_root=tiny_aim500, model="_GreyNet", strategy="_Native",
                   random_weights=True, work_dir=tmp_path / "r", workers=0, metric_workers=0)
    assert "(random weights)" in job.label
    assert evaluate(job)["meta"]["source"]["random_weights"] is True
