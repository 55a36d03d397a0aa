"""AIM training datasets (DUTS, composition, matting_train) and their transforms: sample
structure, reproducibility across seeds/epochs/workers, crops, compositing and input errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from matbench.errors import InputError, MatbenchError
from matbench.registry import DATASETS, TRANSFORMS, build
from matbench_aim.datasets.composition import CompositionDataset
from matbench_aim.datasets.duts import DUTSDataset
from matbench_aim.datasets.matting_train import MattingTrainDataset
from matbench_aim.datasets.seeding import EpochAwareSampler, InfiniteEpochAwareSampler
from matbench_aim.transforms import composite
from matbench_aim.usr import trimap_from_alpha
from matbench_aim.transforms.formatting import MEAN, STD

H, W = 80, 100
NAMES = ("a01", "b02", "c03")
SMALL = 64


def soft_disc(rng: np.random.Generator, h: int = H, w: int = W, edge: float = 3.0) -> np.ndarray:
    """uint8 alpha: an opaque disc with a soft rim (values 0, 255 and in between)."""
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx, r = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w, rng.uniform(0.2, 0.3) * min(h, w)
    a = np.clip((r - np.hypot(yy - cy, xx - cx)) / edge + 0.5, 0, 1)
    return np.round(a * 255).astype(np.uint8)


def rgb(rng: np.random.Generator, h: int = H, w: int = W) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def save(path: Path, arr: np.ndarray, **kw) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, **kw)


def official_trimap(alpha: np.ndarray, k: int) -> np.ndarray:
    """``gen_trimap_with_dilate`` of the official core/util.py, as written there (float maps)."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    dilate = cv2.dilate((alpha != 0).astype(np.float32), kernel, iterations=1)
    erode = cv2.erode((alpha == 255).astype(np.float32), kernel, iterations=1)
    return (erode * 255 + (dilate - erode) * 128).astype(np.uint8)


@pytest.fixture
def duts(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    root = tmp_path / "DUTS-TR"
    for n in NAMES:
        save(root / "DUTS-TR-Image" / f"{n}.jpg", rgb(rng), quality=95)
        save(root / "DUTS-TR-Mask" / f"{n}.png", np.where(soft_disc(rng) > 127, 255, 0).astype(np.uint8))
    return root


def make_source(root: Path, rng: np.random.Generator, usr: bool = True) -> Path:
    for n in NAMES:
        alpha = soft_disc(rng)
        save(root / "mask" / f"{n}.png", alpha)
        save(root / "fg" / f"{n}.png", rgb(rng))
        if usr:
            save(root / "usr" / f"{n}.png", official_trimap(alpha, 30))
    return root


@pytest.fixture
def comp(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    make_source(tmp_path / "DIM" / "train", rng)
    for i, (h, w) in enumerate([(60, 90), (120, 150), (100, 80)]):
        save(tmp_path / "BG-20k" / "train" / f"bg{i}.jpg", rgb(rng, h, w), quality=95)
    return tmp_path


@pytest.fixture
def aim_layout(tmp_path: Path) -> Path:
    from conftest import TINY_LABELS, make_aim500

    root = make_aim500(tmp_path / "AIM", size=(H, W))
    for name in TINY_LABELS:
        alpha = np.asarray(Image.open(root / "mask" / f"{name}.png"))
        save(root / "usr" / f"{name}.png", official_trimap(alpha, 30))
    return root


def small_stage2(**crop) -> list[dict]:
    """The stage-2 pipeline of the smoke config: small crops, 64x64 output."""
    crop = {"crop_sizes": (48, 64, 96), "fallback_size": 32, **crop}
    return [dict(type="LoadAimTrainSample", bg_same_size=True), dict(type="GenerateUSR"),
            dict(type="EstimateForegroundBackground"), dict(type="RandomTransitionCrop", **crop),
            dict(type="RandomFlip"), dict(type="ResizeTo", size=SMALL), dict(type="PackAimInputs")]


def composition(comp: Path, seed: int = 0, size: int = SMALL, **kw) -> CompositionDataset:
    pipeline = [dict(t) for t in CompositionDataset.DEFAULT_PIPELINE]
    pipeline[-2] = dict(type="ResizeTo", size=size)
    return CompositionDataset(sources=["DIM/train"], bg_dir="BG-20k/train", data_root=str(comp), seed=seed,
                              pipeline=pipeline, **kw)


def unnormalise(t: torch.Tensor) -> torch.Tensor:
    return t * torch.tensor(STD).view(3, 1, 1) + torch.tensor(MEAN).view(3, 1, 1)


def check_sample(s: dict, size: int, stage2: bool) -> None:
    keys = {"inputs", "alpha", "trimap", "name"} | ({"fg", "bg"} if stage2 else set())
    assert set(s) == keys
    assert isinstance(s["name"], str)
    for k in keys - {"name"}:
        assert s[k].dtype == torch.float32
        assert s[k].shape == ((3 if k in ("inputs", "fg", "bg") else 1), size, size), k
    for k in {"inputs", "fg", "bg"} & keys:
        x = unnormalise(s[k])
        assert x.min() >= -1e-5 and x.max() <= 1 + 1e-5, k
    assert 0 <= s["alpha"].min() and s["alpha"].max() <= 1
    t = s["trimap"]
    assert torch.equal(t, t.round()) and t.min() >= 0 and t.max() <= 255
    on_classes = torch.isin(t, torch.tensor([0.0, 128.0, 255.0])).float().mean()
    assert on_classes > 0.8  # bilinear resizing blends only along class borders


# --------------------------------------------------------------------------- structure
def test_duts_sample_structure_and_registry(duts):
    ds = build(DATASETS, dict(type="duts", data_root=str(duts)))
    assert isinstance(ds, DUTSDataset) and len(ds) == 3
    assert isinstance(build(DATASETS, dict(type="duts", data_root=str(duts))), DUTSDataset)
    s = ds[0]
    check_sample(s, 320, stage2=False)
    assert s["name"] == "a01"


def test_duts_trimap_is_the_official_one(duts):
    pipeline = [dict(type="LoadAimTrainSample"), dict(type="GenerateTrimap", kernel_size=10),
                dict(type="RandomFlip", prob=0.0), dict(type="ResizeTo", size=(H, W)), dict(type="PackAimInputs")]
    s = DUTSDataset(str(duts), pipeline=pipeline)[1]
    mask = np.asarray(Image.open(duts / "DUTS-TR-Mask" / "b02.png"))
    np.testing.assert_array_equal(s["trimap"][0].numpy(), official_trimap(mask, 10))
    np.testing.assert_array_equal(s["alpha"][0].numpy(), mask / np.float32(255))


def test_trimap_generation_matches_official_on_random_alphas():
    rng = np.random.default_rng(5)
    for k in (3, 10, 30):
        alpha = soft_disc(rng, edge=rng.uniform(1, 8))
        alpha[rng.random(alpha.shape) < 0.01] = 77  # stray semi-transparent pixels
        np.testing.assert_array_equal(trimap_from_alpha(alpha, k), official_trimap(alpha, k))


def test_composition_sample_structure(comp):
    ds = build(DATASETS, dict(type="composition", sources=["DIM/train"], bg_dir="BG-20k/train",
                              data_root=str(comp)))
    assert len(ds) == 3
    check_sample(ds[2], 320, stage2=True)
    assert ds[2]["name"] == "DIM/c03"  # the source is named after DIM/train's parent
    repeated = CompositionDataset(sources=[dict(root="DIM/train", repeat=2)], bg_dir="BG-20k/train",
                                  data_root=str(comp))
    assert len(repeated) == 6 and repeated.get_data_info(5)["bag"] == 1


def test_matting_train_sample_structure_and_fg_bg_estimate(aim_layout):
    ds = build(DATASETS, dict(type="matting_train", source=dict(type="aim500", data_root=str(aim_layout)),
                              pipeline=small_stage2()))
    assert len(ds) == 4
    for i in range(len(ds)):
        s = ds[i]
        check_sample(s, SMALL, stage2=True)
        # process_fgbg: fg + bg is the photo (up to the rounding of the uint8 image's resize)
        total = unnormalise(s["fg"]) + unnormalise(s["bg"])
        assert (total - unnormalise(s["inputs"])).abs().max() <= 1.01 / 255


def test_trimap_nearest_keeps_three_values(aim_layout):
    pipeline = small_stage2()
    pipeline[-2] = dict(type="ResizeTo", size=SMALL, trimap_interpolation="nearest")
    ds = MattingTrainDataset(source=dict(type="aim500", data_root=str(aim_layout)), pipeline=pipeline)
    for i in range(len(ds)):
        assert set(ds[i]["trimap"].unique().tolist()) <= {0.0, 128.0, 255.0}


# --------------------------------------------------------------------------- reproducibility
def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k], k


def differs(a: dict, b: dict) -> bool:
    return any(not torch.equal(a[k], b[k]) for k in a if isinstance(a[k], torch.Tensor))


def test_same_seed_same_samples_other_seed_or_epoch_differs(comp):
    one, two = composition(comp, seed=7), composition(comp, seed=7)
    for i in range(3):
        assert_same(one[i], two[i])
        assert_same(one[(4, i)], two[(4, i)])
    other = composition(comp, seed=8)
    assert any(differs(one[i], other[i]) for i in range(3))
    assert any(differs(one[(0, i)], one[(1, i)]) for i in range(3))
    one.set_epoch(4)
    assert_same(one[1], two[(4, 1)])


def test_crops_vary_with_index_and_epoch(aim_layout):
    pipeline = small_stage2()[:-1]  # stop before packing to see the crop boxes
    ds = MattingTrainDataset(source=dict(type="aim500", data_root=str(aim_layout)), pipeline=pipeline)
    by_index = {ds[i]["crop"] for i in range(len(ds))}
    by_epoch = {ds[(e, 0)]["crop"] for e in range(8)}
    assert len(by_index) > 1 and len(by_epoch) > 1
    assert {ds[(e, 0)]["flip"] for e in range(8)} == {True, False}


def test_backgrounds_paired_deterministically(comp):
    def bgs(ds: CompositionDataset, epoch: int) -> list[str]:
        return [ds.prepare_sample({}, epoch, i)["bg_path"] for i in range(3)]

    ds = composition(comp, seed=3)
    first = bgs(ds, 0)
    assert len(set(first)) == 3  # 3 backgrounds, 3 samples: each used once per epoch
    assert first == bgs(composition(comp, seed=3), 0)
    assert any(bgs(ds, e) != first for e in range(1, 6))
    fixed = composition(comp, seed=3, reshuffle_backgrounds=False)
    assert all(bgs(fixed, e) == bgs(fixed, 0) for e in range(4))


def test_dataloader_workers_give_the_same_batches(comp):
    ds = composition(comp, seed=11, size=32)

    def batches(workers: int) -> list[dict]:
        sampler = EpochAwareSampler(ds, shuffle=True, seed=5)
        sampler.set_epoch(2)
        loader = torch.utils.data.DataLoader(ds, batch_size=2, sampler=sampler, num_workers=workers)
        return list(loader)

    single, multi = batches(0), batches(2)
    assert len(single) == len(multi) == 2
    for a, b in zip(single, multi):
        assert_same(a, b)
    sampler = EpochAwareSampler(ds, shuffle=True, seed=5)
    sampler.set_epoch(2)
    first_two = list(sampler)[:2]
    assert all(e == 2 for e, _ in first_two)
    assert_same(single[0], torch.utils.data.default_collate([ds[p] for p in first_two]))


def test_samplers_carry_the_epoch(comp):
    ds = composition(comp)
    sampler = EpochAwareSampler(ds, shuffle=False, seed=0)
    sampler.set_epoch(3)
    assert list(sampler) == [(3, 0), (3, 1), (3, 2)]
    inf = iter(InfiniteEpochAwareSampler(ds, shuffle=True, seed=0))
    pairs = [next(inf) for _ in range(7)]
    assert [p[0] for p in pairs] == [0, 0, 0, 1, 1, 1, 2]
    assert sorted(p[1] for p in pairs[:3]) == [0, 1, 2]


def test_runner_builds_the_dataloader_from_a_config(duts):
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    pipeline = [dict(type="LoadAimTrainSample"), dict(type="GenerateTrimap"), dict(type="RandomFlip"),
                dict(type="ResizeTo", size=32), dict(type="PackAimInputs")]
    cfg = dict(batch_size=3, num_workers=0, collate_fn=dict(type="default_collate"),
               sampler=dict(type="EpochAwareSampler", shuffle=True, seed=0),
               dataset=dict(type="duts", data_root=str(duts), pipeline=pipeline))
    with DefaultScope.overwrite_default_scope("matbench"):
        loader = Runner.build_dataloader(cfg, seed=0)
        batch = next(iter(loader))
    assert isinstance(loader.sampler, EpochAwareSampler) and isinstance(loader.dataset, DUTSDataset)
    assert batch["inputs"].shape == (3, 3, 32, 32) and batch["trimap"].shape == (3, 1, 32, 32)


# --------------------------------------------------------------------------- transforms
def run(transform: dict, results: dict, seed: int = 0) -> dict:
    return build(TRANSFORMS, transform)({**results, "rng": np.random.default_rng(seed)})


def test_crop_size_choice_and_fallback():
    alpha = np.zeros((H, W), np.uint8)
    trimap = np.zeros((H, W), np.uint8)
    base = {"alpha": alpha, "trimap": trimap, "image": np.zeros((H, W, 3), np.uint8)}
    assert run(dict(type="RandomTransitionCrop", crop_sizes=(64,)), base)["crop"][2] == 64
    assert run(dict(type="RandomTransitionCrop", crop_sizes=(640,), fallback_size=32), base)["crop"][2] == 32
    # larger than the image and so is the fallback: the shorter side (the official code crashes)
    out = run(dict(type="RandomTransitionCrop", crop_sizes=(640, 960, 1280), fallback_size=320), base)
    assert out["crop"][2] == H and out["image"].shape == (H, H, 3) and out["trimap"].shape == (H, H)
    # a size equal to the shorter side is used as it is (the official code falls back for it)
    top, _, size = run(dict(type="RandomTransitionCrop", crop_sizes=(H,)), base)["crop"]
    assert top == 0 and size == H


def test_crop_on_transition_pixels():
    trimap = np.zeros((200, 300), np.uint8)
    trimap[100, 40] = 128  # a single transition pixel
    base = {"alpha": np.zeros((200, 300), np.uint8), "trimap": trimap}
    for seed in range(5):
        top, left, size = run(dict(type="RandomTransitionCrop", crop_sizes=(64,), transition_prob=1.0), base,
                              seed)["crop"]
        assert (top, left) == (100 - 32, 40 - 32) and size == 64  # centred on it
        top, left, _ = run(dict(type="RandomTransitionCrop", crop_sizes=(64,), transition_prob=1.0,
                                anchor="corner"), base, seed)["crop"]
        assert (top, left) == (100, 40)  # the official placement: its top-left corner
    near_edge = np.zeros((200, 300), np.uint8)
    near_edge[195, 298] = 128
    top, left, _ = run(dict(type="RandomTransitionCrop", crop_sizes=(64,), transition_prob=1.0),
                       {"alpha": base["alpha"], "trimap": near_edge})["crop"]
    assert (top, left) == (200 - 64, 300 - 64)  # shifted inside the image, still covering it
    # no transition pixel at all: placed uniformly
    assert len({run(dict(type="RandomTransitionCrop", crop_sizes=(64,), transition_prob=1.0),
                    {"alpha": base["alpha"], "trimap": np.zeros((200, 300), np.uint8)}, s)["crop"]
                for s in range(6)}) > 1


def test_composite_formula_against_direct_computation(comp):
    pipeline = [dict(type="LoadAimTrainSample"), dict(type="GenerateUSR"), dict(type="ResizeBackground"),
                dict(type="RandomBackgroundBlur", prob=0.0), dict(type="Composite")]
    ds = CompositionDataset(sources=["DIM/train"], bg_dir="BG-20k/train", data_root=str(comp), pipeline=pipeline)
    for i in range(len(ds)):
        r = ds[i]
        fg = np.asarray(Image.open(r["fg_path"])).astype(np.float64)
        alpha = np.asarray(Image.open(r["alpha_path"])).astype(np.float64)[:, :, None] / 255.0
        assert r["bg"].shape == fg.shape
        expected = (alpha * fg + (1 - alpha) * r["bg"].astype(np.float64)).astype(np.uint8)
        np.testing.assert_array_equal(r["image"], expected)
        assert r["image"].dtype == np.uint8
    a8 = np.array([[0, 128, 255]], np.uint8)
    fg, bg = np.full((1, 3, 3), 200, np.uint8), np.full((1, 3, 3), 100.0)
    np.testing.assert_array_equal(composite(a8, fg, bg)[0, :, 0], [100, int(100 + 100 * 128 / 255), 200])


def test_cropping_before_compositing_gives_the_official_order_samples(comp):
    """The default pipeline crops before compositing (cheaper); with the same draws, the official
    order (composite, then crop) gives the same arrays."""
    head = [dict(type="LoadAimTrainSample"), dict(type="GenerateUSR"), dict(type="ResizeBackground"),
            dict(type="RandomBackgroundBlur", prob=0.5)]
    crop = dict(type="RandomTransitionCrop", crop_sizes=(24, 32), fallback_size=16)
    tail = [dict(type="RandomFlip"), dict(type="ResizeTo", size=SMALL), dict(type="PackAimInputs")]
    ours = CompositionDataset(sources=["DIM/train"], bg_dir="BG-20k/train", data_root=str(comp),
                              pipeline=head + [crop, dict(type="Composite")] + tail)
    official = CompositionDataset(sources=["DIM/train"], bg_dir="BG-20k/train", data_root=str(comp),
                                  pipeline=head + [dict(type="Composite"), crop] + tail)
    assert [t["type"] for t in CompositionDataset.DEFAULT_PIPELINE].index("RandomTransitionCrop") < \
        [t["type"] for t in CompositionDataset.DEFAULT_PIPELINE].index("Composite")
    for i in range(len(ours)):
        assert_same(ours[i], official[i])


def test_noise_is_clipped_not_wrapped():
    image = np.zeros((32, 32, 3), np.uint8)
    image[:, 16:] = 255
    out = run(dict(type="RandomGaussianNoise", sigma=30, prob=1.0), {"image": image, "fg": image.copy(),
                                                                    "bg": image.astype(np.float32)})
    for k in ("image", "fg", "bg"):
        assert out[k].dtype == np.uint8
        assert out[k][:, :16].max() < 160 and out[k][:, 16:].min() > 95  # no dark pixel turned bright
    np.testing.assert_array_equal(out["image"], out["fg"])  # one noise field for all three


def test_transforms_refuse_to_run_without_the_generator():
    with pytest.raises(MatbenchError, match="rng"):
        build(TRANSFORMS, dict(type="RandomFlip"))({"image": np.zeros((4, 4, 3), np.uint8)})


# --------------------------------------------------------------------------- input errors
def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_duts_errors(duts):
    (duts / "DUTS-TR-Mask" / "b02.png").unlink()
    with pytest.raises(InputError) as exc:
        DUTSDataset(str(duts))
    assert str(duts / "DUTS-TR-Mask" / "b02.png") in one_line(exc) and "mask missing" in str(exc.value)
    (duts / "DUTS-TR-Image" / "b02.jpg").unlink()
    (duts / "DUTS-TR-Image" / "a01.jpg").unlink()
    with pytest.raises(InputError, match="has no image") as exc:
        DUTSDataset(str(duts))
    assert "a01.png" in one_line(exc)
    for p in (duts / "DUTS-TR-Image").iterdir():
        p.unlink()
    with pytest.raises(InputError, match="no images found"):
        DUTSDataset(str(duts))
    with pytest.raises(InputError, match="not found"):
        DUTSDataset(str(duts / "nope"))


def test_duts_unreadable_file_is_named_when_loaded(duts):
    (duts / "DUTS-TR-Image" / "c03.jpg").write_bytes(b"not a jpeg")
    ds = DUTSDataset(str(duts))
    with pytest.raises(InputError) as exc:
        ds[2]
    assert one_line(exc).startswith(str(duts / "DUTS-TR-Image" / "c03.jpg") + ":")


def test_composition_errors(comp):
    (comp / "DIM" / "train" / "fg" / "b02.png").unlink()
    with pytest.raises(InputError, match="foreground missing") as exc:
        composition(comp)
    assert str(comp / "DIM" / "train" / "fg" / "b02.png") in one_line(exc)


def test_composition_missing_usr_needs_a_type(comp, tmp_path):
    (comp / "DIM" / "train" / "usr" / "a01.png").unlink()
    with pytest.raises(InputError, match="no type") as exc:
        composition(comp)
    one_line(exc)
    types = tmp_path / "types.json"
    types.write_text(json.dumps({"DIM": {"a01.png": "STM"}}))  # official layout, keys with extensions
    ds = CompositionDataset(sources=[dict(root="DIM/train", types_file=str(types), types_key="DIM")],
                            bg_dir="BG-20k/train", data_root=str(comp))
    assert ds.get_data_info(0)["type"] == "STM" and ds.get_data_info(0)["usr_path"] is None
    assert ds.get_data_info(1)["usr_path"].endswith("b02.png")


def test_composition_background_errors(comp):
    for p in (comp / "BG-20k" / "train").iterdir():
        p.unlink()
    with pytest.raises(InputError, match="no backgrounds") as exc:
        composition(comp)
    assert str(comp / "BG-20k" / "train") in one_line(exc)


def test_matting_train_missing_usr_and_type(aim_layout):
    (aim_layout / "usr" / "b02.png").unlink()
    (aim_layout / "aim_category_type.json").unlink()
    with pytest.raises(InputError, match="no USR file and no type") as exc:
        MattingTrainDataset(source=dict(type="aim500", data_root=str(aim_layout)))
    one_line(exc)
    ds = MattingTrainDataset(source=dict(type="aim500", data_root=str(aim_layout)), default_type="SO")
    assert ds.get_data_info(1)["type"] == "SO" and ds.get_data_info(1)["usr_path"] is None


def test_usr_size_mismatch_is_named(aim_layout):
    save(aim_layout / "usr" / "c03.png", np.zeros((H, W + 1), np.uint8))
    ds = MattingTrainDataset(source=dict(type="aim500", data_root=str(aim_layout)), pipeline=small_stage2())
    with pytest.raises(InputError) as exc:
        ds[2]
    assert one_line(exc).startswith(str(aim_layout / "usr" / "c03.png") + ": size")


def test_computed_usr_when_the_file_is_missing(aim_layout):
    usr = pytest.importorskip("matbench_aim.usr")
    (aim_layout / "usr" / "d04.png").unlink()  # type NS: all 128
    pipeline = [dict(type="LoadAimTrainSample"), dict(type="GenerateUSR", kernel_size=30)]
    ds = MattingTrainDataset(source=dict(type="aim500", data_root=str(aim_layout)), pipeline=pipeline)
    r = ds[3]
    assert r["type"] == "NS" and (r["trimap"] == 128).all()
    np.testing.assert_array_equal(ds[0]["trimap"], usr.make_usr(ds[0]["alpha"], "SO", 30))
