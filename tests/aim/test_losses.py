"""AIM training losses: every loss and both stage totals (values and |grad| sums) against the
official code's (golden fixture), gradients, units, shape checks, and building from configs."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from matbench.registry import MODELS, build
from conftest import load_tool
from matbench_aim import losses as L

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((ROOT / "tests" / "fixtures" / "aim_losses_golden.json").read_text())
CASES = GOLDEN["loss_cases"]
REL = 1e-5


loss_inputs = load_tool("make_aim_loss_golden").loss_inputs


def assert_rel(got, want: float, what: str) -> None:
    got = float(got.detach() if isinstance(got, torch.Tensor) else got)
    assert math.isfinite(got), f"{what}: {got}"
    assert abs(got - want) <= REL * abs(want), f"{what}: {got!r} vs official {want!r} (rel {abs(got - want) / abs(want):.2e})"


def _stage(stage: str, x: dict, **kwargs) -> dict:
    return L.stage_losses(stage, x["pred_global"], x["pred_local"], x["pred_fusion"], x["alpha"], x["trimap"],
                          image=x["image"], fg=x["fg"], bg=x["bg"], **kwargs)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # tensors here are tiny: with 2 OpenMP threads on a busy 2-core machine each op waits for
    # the other core (0.3 s per Laplacian loss instead of 3 ms)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", params=CASES, ids=[c["recipe"]["name"] for c in CASES])
def case(request):
    return request.param, loss_inputs(request.param["recipe"])


def test_each_loss_matches_official(case):
    want, x = case[0]["official"], case[1]
    got = {
        "global_ce": L.global_ce_loss(x["pred_global"], x["trimap"]),
        "alpha_transition": L.alpha_loss(x["pred_local"], x["alpha"], x["trimap"]),
        "alpha_whole": L.alpha_loss_whole(x["pred_fusion"], x["alpha"]),
        "laplacian_transition": L.laplacian_loss(x["pred_local"], x["alpha"], x["trimap"]),
        "laplacian_whole": L.laplacian_loss_whole(x["pred_fusion"], x["alpha"]),
        "composition": L.composition_loss(x["pred_fusion"], x["image"], x["fg"], x["bg"]),
    }
    for key, value in got.items():
        assert value.dtype == torch.float32 and value.dim() == 0
        assert_rel(value, want[key], key)


@pytest.mark.parametrize("stage", L.STAGES)
def test_stage_totals_and_gradients_match_official(case, stage):
    want, x = case[0]["official"][stage], dict(case[1])
    preds = ("pred_global", "pred_local", "pred_fusion")
    for k in preds:
        x[k] = x[k].clone().requires_grad_(True)
    got = _stage(stage, x)
    parts = {"global", "local", "fusion_alpha", "loss"} | ({"fusion_comp"} if stage == "matting" else set())
    assert set(got) == parts
    for key in parts:
        assert_rel(got[key], want[key], f"{stage} {key}")
    got["loss"].backward()
    for k in preds:
        grad = x[k].grad
        assert grad is not None and torch.isfinite(grad).all(), k
        assert_rel(grad.abs().sum(), want["grad_abs_sum"][k], f"{stage} d loss / d {k}")


def test_edge_cases_behave_as_official():
    by_name = {c["recipe"]["name"]: c for c in CASES}
    # no transition pixel: every pixel adds sqrt(1e-12) and the denominator is 0 + 1
    c = by_name["no_transition"]
    x = loss_inputs(c["recipe"])
    assert float(x["trimap"].eq(128).sum()) == 0
    assert_rel(L.alpha_loss(x["pred_local"], x["alpha"], x["trimap"]), x["alpha"].numel() * 1e-6, "no transition")
    assert float(L.laplacian_loss(x["pred_local"], x["alpha"], x["trimap"])) == 0.0


def test_trimap_classes_follow_the_official_mapping():
    values = torch.tensor([0, 0.4, 1, 1.5, 2, 2.5, 64, 128, 254.9, 255]).view(1, 1, 1, -1)
    assert L.trimap_classes(values).tolist() == [[[0, 0, 1, 1, 2, 1, 1, 1, 1, 2]]]
    assert L.trimap_classes(values.to(torch.uint8)).dtype == torch.int64


def test_laplacian_kernel():
    k = L.laplacian_kernel(dtype=torch.float64)
    assert k.shape == (1, 1, 5, 5) and abs(float(k.sum()) - 1) < 1e-12
    assert torch.equal(k, k.transpose(-1, -2))
    g = torch.exp(-(torch.arange(5.0, dtype=torch.float64) - 2) ** 2)
    # k[i, j] ∝ g(i) + g(j), g(d) = exp(-(d-2)^2): a sum of 1-D bumps, not a 2-D Gaussian
    assert float(((k[0, 0] / k[0, 0, 2, 2]) - (g[None] + g[:, None]) / 2).abs().max()) < 1e-12
    assert L.laplacian_kernel(3).shape == (3, 1, 5, 5)


def test_dtype_follows_the_input():
    x = loss_inputs(CASES[0]["recipe"])
    x64 = {k: v.double() for k, v in x.items()}
    for stage in L.STAGES:
        got32, got64 = _stage(stage, x), _stage(stage, x64)
        for key in got32:
            assert got64[key].dtype == torch.float64
            assert abs(float(got64[key]) - float(got32[key])) <= 1e-5 * abs(float(got32[key]))


def test_modules_build_from_config_and_equal_the_functions():
    x = loss_inputs(CASES[1]["recipe"])
    p, a, t = x["pred_local"], x["alpha"], x["trimap"]
    ce = build(MODELS, dict(type="AimGlobalCELoss"))
    assert isinstance(ce, torch.nn.Module)
    assert torch.equal(ce(x["pred_global"], t), L.global_ce_loss(x["pred_global"], t))
    assert torch.equal(build(MODELS, dict(type="AimAlphaLoss"))(p, a, t), L.alpha_loss(p, a, t))
    assert torch.equal(build(MODELS, dict(type="AimAlphaLoss", region="whole"))(p, a), L.alpha_loss_whole(p, a))
    assert torch.equal(build(MODELS, dict(type="AimLaplacianLoss"))(p, a, t), L.laplacian_loss(p, a, t))
    assert torch.equal(build(MODELS, dict(type="AimLaplacianLoss", region="whole"))(p, a), L.laplacian_loss_whole(p, a))
    comp = build(MODELS, dict(type="AimCompositionLoss"))
    assert torch.equal(comp(p, x["image"], x["fg"], x["bg"]), L.composition_loss(p, x["image"], x["fg"], x["bg"]))
    for stage in L.STAGES:
        module = build(MODELS, dict(type="AimStageLoss", stage=stage))
        got = module(x["pred_global"], p, x["pred_fusion"], a, t, image=x["image"], fg=x["fg"], bg=x["bg"])
        want = _stage(stage, x)
        assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in got)
    assert "stage='sod'" in repr(build(MODELS, dict(type="AimStageLoss", stage="sod")))


def test_mmengine_parse_losses_counts_the_total_once():
    from mmengine.model import BaseModel

    x = loss_inputs(CASES[0]["recipe"])
    parts = _stage("matting", x)
    total, log_vars = BaseModel.parse_losses(None, parts)
    assert torch.equal(total, parts["loss"])
    assert {"global", "local", "fusion_alpha", "fusion_comp", "loss"} <= set(log_vars)


def test_bad_arguments_are_refused():
    x = loss_inputs(CASES[0]["recipe"])
    p, a, t = x["pred_local"], x["alpha"], x["trimap"]
    with pytest.raises(ValueError, match="shapes differ"):
        L.alpha_loss(p, a[:, 0], t)
    with pytest.raises(ValueError, match="shapes differ"):
        L.laplacian_loss_whole(p, a[:1])
    with pytest.raises(ValueError, match="H, W >= 32"):
        L.laplacian_loss_whole(p[..., :16, :], a[..., :16, :])
    with pytest.raises(ValueError, match="N x 3"):
        L.global_ce_loss(p, t)
    with pytest.raises(ValueError, match="image, fg and bg"):
        L.stage_losses("matting", x["pred_global"], p, x["pred_fusion"], a, t)
    with pytest.raises(ValueError, match="unknown AIM training stage"):
        L.AimStageLoss(stage="finetune")
    with pytest.raises(ValueError, match="unknown region"):
        L.AimAlphaLoss(region="fg")
    with pytest.raises(ValueError, match="needs a trimap"):
        L.AimLaplacianLoss()(p, a)
    with pytest.raises(ValueError, match="fg must be"):
        L.composition_loss(p, x["image"], x["fg"][:, :1], x["bg"])


def test_tensors_stay_on_the_input_device():
    # on the meta device any kernel or mask made on the CPU would fail: a stand-in for CUDA
    x = {k: v.to("meta") for k, v in loss_inputs(CASES[0]["recipe"]).items()}
    for stage in L.STAGES:
        out = _stage(stage, x)
        assert all(v.device.type == "meta" for v in out.values())
