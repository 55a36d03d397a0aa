"""Issue 9: inputs that used to pass silently or cost too much — NaN networks, `predict` writing
over its inputs, huge declared image sizes, symlink loops, odd modes and misnamed formats."""
import os
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import make_aim500
from matbench.errors import FormatMismatchWarning, InputError
from matbench.evaluation.metric import _load
from matbench.io import read_alpha, read_prediction, read_trimap
from matbench.predict import PredictJob, run_predict
from matbench.transforms import LoadMattingSample


def matbench(*args):
    return subprocess.run([sys.executable, "-m", "matbench.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def one_line_error(res, *needles):
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    for needle in needles:
        assert needle in res.stderr, res.stderr


# 1. NaN network outputs ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def nan_checkpoint(tmp_path_factory):
    """AimNet weights with NaN in the first convolution: every output is NaN."""
    from matbench.plugins import load_plugins
    from matbench.registry import MODELS, build

    load_plugins()
    state = build(MODELS, {"type": "AimNet"}).state_dict()
    state["resnet.conv1.weight"].fill_(float("nan"))
    path = tmp_path_factory.mktemp("ckpt") / "nan.pth"
    torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def photo_dataset(tmp_path_factory):
    """One AIM-500-layout image large enough for every strategy's coarse pass."""
    return make_aim500(tmp_path_factory.mktemp("data") / "AIM-500", size=(128, 160),
                       labels={"e05": {"type": "SO", "category": "animal"}})


def test_predict_refuses_nan_network(nan_checkpoint, photo_dataset, tmp_path):
    res = matbench("predict", photo_dataset / "original" / "e05.jpg", "--out", tmp_path / "o",
                   "--checkpoint", nan_checkpoint, "--device", "cpu")
    one_line_error(res, "e05.jpg", "non-finite")
    assert not (tmp_path / "o" / "e05.png").exists()


@pytest.mark.parametrize("strategy", ["hybrid", "resize", "full"])
def test_eval_refuses_nan_network(nan_checkpoint, photo_dataset, tmp_path, strategy):
    res = matbench("eval", "--dataset", "aim500", "--data-root", photo_dataset, "--strategy", strategy,
                   "--checkpoint", nan_checkpoint, "--work-dir", tmp_path / "w", "--workers", "0",
                   "--metric-workers", "0", "--device", "cpu")
    one_line_error(res, "e05.jpg", "non-finite")


def test_predict_refuses_non_finite_final_alpha(monkeypatch, photo_dataset, tmp_path):
    """A strategy that bypasses the network check still cannot write a NaN matte as zeros."""
    class NaNStrategy:
        def run(self, network, image):
            return {"alpha": torch.full(image.shape[2:], float("nan"), dtype=torch.float64)}

    monkeypatch.setattr("matbench.predict.build", lambda registry, cfg: NaNStrategy())
    monkeypatch.setattr("matbench.predict.build_network", lambda *a, **k: torch.nn.Identity())
    job = PredictJob(inputs=[photo_dataset / "original"], out=tmp_path / "o", model={"type": "X"},
                     strategy={"type": "nan"}, random_weights=True)
    with pytest.raises(InputError, match=r"e05\.jpg: .*non-finite"):
        run_predict(job)
    assert not (tmp_path / "o" / "e05.png").exists()


# 2. predict must not overwrite its inputs ----------------------------------------------------

def _fail_if_called(*args, **kwargs):
    raise AssertionError("work started before the output names were checked")


@pytest.fixture
def png_photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, name in enumerate(("cat.png", "dog.png")):
        Image.fromarray(np.full((128, 160, 3), 60 * i, np.uint8)).save(folder / name)
    return folder


def _job(inputs, out, **kw):
    return PredictJob(inputs=inputs, out=out, model={"type": "AimNet"}, strategy={"type": "resize"},
                      random_weights=True, **kw)


def test_predict_refuses_to_overwrite_input_photos(monkeypatch, png_photos):
    monkeypatch.setattr("matbench.predict.build_network", _fail_if_called)
    before = (png_photos / "cat.png").read_bytes()
    with pytest.raises(InputError, match=r"cat\.png: .*input"):
        run_predict(_job([png_photos], png_photos))
    assert (png_photos / "cat.png").read_bytes() == before


def test_predict_refuses_an_extra_output_named_like_an_input(monkeypatch, tmp_path):
    Image.fromarray(np.zeros((40, 52, 3), np.uint8)).save(tmp_path / "cat.jpg")
    Image.fromarray(np.zeros((40, 52, 3), np.uint8)).save(tmp_path / "cat_cutout.png")
    monkeypatch.setattr("matbench.predict.build_network", _fail_if_called)
    with pytest.raises(InputError, match=r"cat_cutout\.png: .*input"):
        run_predict(_job([tmp_path / "cat.jpg", tmp_path / "cat_cutout.png"], tmp_path, cutout=True))


def test_predict_cli_overwrite_is_one_line(png_photos):
    res = matbench("predict", png_photos, "--out", png_photos, "--random-weights", "--device", "cpu")
    one_line_error(res, "cat.png", "input")


# 3. sizes compared from the headers, before decoding -------------------------------------------

def _huge_png(path):
    Image.new("L", (6000, 6000)).save(path)          # ~36 MB of pixels, a few KB on disk
    return path


def _peak_mib(call):
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            call()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20, str(info.value)
    finally:
        tracemalloc.stop()


def test_huge_prediction_refused_before_decoding(tiny_aim500, tmp_path):
    pred = _huge_png(tmp_path / "a01.png")
    sample = {"name": "a01", "pred_path": str(pred), "alpha_path": str(tiny_aim500 / "mask" / "a01.png"),
              "trimap_path": str(tiny_aim500 / "trimap" / "a01.png")}
    peak, message = _peak_mib(lambda: _load(sample, {}))
    assert message == f"{pred}: size 6000x6000 differs from {sample['alpha_path']} 52x40"
    assert peak < 20, f"decoded before comparing sizes ({peak:.0f} MiB)"


def test_huge_trimap_refused_before_decoding(tiny_aim500, tmp_path):
    trimap = _huge_png(tmp_path / "a01.png")
    sample = {"image_path": str(tiny_aim500 / "original" / "a01.jpg"),
              "alpha_path": str(tiny_aim500 / "mask" / "a01.png"), "trimap_path": str(trimap)}
    peak, message = _peak_mib(lambda: LoadMattingSample()(sample))
    assert message == f"{trimap}: size 6000x6000 differs from {sample['image_path']} 52x40"
    assert peak < 20, f"decoded before comparing sizes ({peak:.0f} MiB)"


def test_header_check_accepts_exif_turned_image(tiny_aim500, tmp_path):
    """An image stored sideways with an EXIF rotation still passes when its upright size fits."""
    exif = Image.Exif()
    exif[0x0112] = 6
    image = tmp_path / "a01.jpg"
    Image.fromarray(np.zeros((52, 40, 3), np.uint8)).save(image, exif=exif.tobytes())
    out = LoadMattingSample()({"image_path": str(image), "alpha_path": str(tiny_aim500 / "mask" / "a01.png"),
                               "trimap_path": str(tiny_aim500 / "trimap" / "a01.png")})
    assert out["image"].shape == (40, 52, 3)


# 4. symlinks, modes, misnamed formats -----------------------------------------------------------

def test_symlink_loop_and_dangling_link(tmp_path):
    loop = tmp_path / "loop.png"
    os.symlink(loop, loop)
    with pytest.raises(InputError, match="symbolic link loop"):
        read_alpha(loop)
    dangling = tmp_path / "dangling.png"
    os.symlink(tmp_path / "gone.png", dangling)
    with pytest.raises(InputError, match="broken symbolic link"):
        read_alpha(dangling)


def test_differing_channels_name_the_actual_mode(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[0, 0, 1] = 9
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    with pytest.raises(InputError, match="RGBA prediction with differing channels"):
        read_prediction(tmp_path / "rgba.png")
    with pytest.raises(InputError, match="RGBA trimap with differing channels"):
        read_trimap(tmp_path / "rgba.png")
    pal = Image.new("P", (8, 8))
    pal.putpalette([0, 0, 0, 10, 20, 30])
    pal.putpixel((0, 0), 1)
    pal.save(tmp_path / "pal.png")
    with pytest.raises(InputError, match="P alpha with differing channels"):
        read_alpha(tmp_path / "pal.png")


@pytest.fixture
def fresh_format_warnings(monkeypatch):
    monkeypatch.setattr("matbench.io._FORMATS_REPORTED", set())


def test_jpeg_named_png_is_said_once(tmp_path, fresh_format_warnings):
    for name in ("a.png", "b.png"):
        Image.fromarray(np.full((8, 8), 100, np.uint8)).save(tmp_path / name, format="JPEG")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_prediction(tmp_path / "a.png")
        read_prediction(tmp_path / "b.png")
        read_prediction(tmp_path / "b.png")
    said = [w for w in caught if issubclass(w.category, FormatMismatchWarning)]
    assert len(said) == 1
    assert str(said[0].message).startswith(f"{tmp_path / 'a.png'}: a JPEG file named .png")


def test_jpeg_named_png_cli_warning_is_one_line(tiny_aim500, tiny_predictions, tmp_path):
    for name in ("a01.png", "c03.png"):
        pred = Image.open(tiny_predictions / name)
        pred.load()
        pred.save(tiny_predictions / name, format="JPEG", quality=90)
    res = matbench("eval", "--dataset", "aim500", "--data-root", tiny_aim500, "--predictions", tiny_predictions,
                   "--work-dir", tmp_path / "w", "--workers", "0", "--metric-workers", "2")
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stderr.splitlines() if "JPEG" in line]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"matbench: warning: {tiny_predictions / 'a01.png'}: a JPEG file named .png")
