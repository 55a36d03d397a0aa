"""AimNet equals the official network: key set, loading, outputs; strategies equal the official
inference path (golden values from tools/make_aimnet_golden.py)."""
from pathlib import Path

import numpy as np
import pytest
import torch

from matbench.deterministic_weights import fill_deterministic
from matbench.errors import InputError, MatbenchError
from matbench.networks import image_tensor, load_strict
from matbench.registry import STRATEGIES, build
from matbench_aim.models import AimNet
from matbench_aim.testing import FORWARD_SIZE, PHOTO_SIZE, scene

GOLDEN = np.load(Path(__file__).parents[1] / "fixtures" / "aimnet_golden.npz")


@pytest.fixture(scope="module")
def net():
    return fill_deterministic(AimNet()).eval()


def test_state_dict_has_the_official_layout(net):
    state = net.state_dict()
    assert len(state) == 700                                   # as the official AimNet
    assert sum(p.numel() for p in net.parameters()) == 55_298_191
    # the encoder aliases the backbone: the same tensor under two official names
    assert state["encoder0.0.weight"].data_ptr() == state["resnet.conv1.weight"].data_ptr()
    assert state["encoder1.0.2.conv2.weight"].data_ptr() == state["resnet.layer1.2.conv2.weight"].data_ptr()
    assert tuple(state["decoder_final_g.weight"].shape) == (3, 64, 3, 3)
    assert tuple(state["psp_module.bottleneck.weight"].shape) == (512, 2048, 1, 1)


def test_forward_matches_official(net):
    x = torch.from_numpy(scene(*FORWARD_SIZE)).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        outputs = net(AimNet.normalize(x))
    for name, out in zip(("global", "local", "fusion"), outputs):
        expected = GOLDEN[name]
        assert out[0].squeeze(0).shape == expected.shape
        assert np.abs(out[0].squeeze(0).numpy() - expected).max() <= 1e-4, name


@pytest.mark.parametrize("strategy", ["resize", "hybrid"])
def test_strategies_match_official_inference(net, strategy):
    photo = scene(*PHOTO_SIZE, seed=1)
    with torch.no_grad():
        alpha = build(STRATEGIES, dict(type=strategy))(net, image_tensor(photo, "cpu")).numpy()
    expected = GOLDEN[strategy] / 65535.0
    assert alpha.shape == expected.shape
    assert np.abs(alpha - expected).max() * 255 <= 1.0      # within one grey level, borders included


@pytest.mark.parametrize("layout", ["official", "plain", "wrapped"])
def test_checkpoints_load_strictly(net, tmp_path, layout):
    state = net.state_dict()
    obj = {"official": {"state_dict": state}, "plain": state,
           "wrapped": {"meta": {"epoch": 3}, "state_dict": {f"network.{k}": v for k, v in state.items()}}}[layout]
    torch.save(obj, tmp_path / "ckpt.pth")
    other = AimNet()
    load_strict(other, tmp_path / "ckpt.pth")
    assert torch.equal(other.state_dict()["decoder_final_l.weight"], state["decoder_final_l.weight"])


def test_mismatched_checkpoint_names_keys(tmp_path):
    state = {k: v for k, v in AimNet().state_dict().items() if not k.startswith("decoder0_l")}
    torch.save({"state_dict": state}, tmp_path / "partial.pth")
    with pytest.raises(InputError, match=r"missing: decoder0_l\.0\.weight"):
        load_strict(AimNet(), tmp_path / "partial.pth")


def test_hybrid_refuses_a_single_output_network():
    single = torch.nn.Conv2d(3, 1, 1)
    with pytest.raises(MatbenchError, match="needs a model with a 'global' output"):
        build(STRATEGIES, dict(type="hybrid")).check_model(single)


def test_too_small_image_is_a_clear_error(net):
    with pytest.raises(MatbenchError, match="too small"):
        build(STRATEGIES, dict(type="resize"))(net, image_tensor(scene(100, 200), "cpu"))


def test_full_and_tiled_give_full_size_alphas(net):
    photo = image_tensor(scene(130, 140, seed=2), "cpu")
    with torch.no_grad():
        full_result = build(STRATEGIES, dict(type="full")).run(net, photo)
        full = full_result["alpha"]
        tiled = build(STRATEGIES, dict(type="tiled", tile=64, overlap=16))(net, photo)
        one_tile = build(STRATEGIES, dict(type="tiled", tile=4096, overlap=16, local_ratio=0.5))(net, photo)
    assert full.shape == tiled.shape == (130, 140)
    assert torch.isfinite(tiled).all() and 0 <= float(tiled.min()) and float(tiled.max()) <= 1
    assert not torch.equal(tiled, one_tile)           # several windows really ran
    assert set(torch.unique(full_result["trimap"]).tolist()) <= {0, 128, 255}
