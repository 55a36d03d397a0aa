"""Dataset plugins (AIM500, folder) and LoadMattingSample: layout problems name the file."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from matbench.datasets import MattingDataset
from matbench.errors import InputError, MatbenchError
from matbench.registry import DATASETS, TRANSFORMS, build, lookup


def _write(root, name, size=(12, 16), image_dir="original", alpha_dir="mask", trimap_dir="trimap",
           image_ext=".jpg"):
    h, w = size
    for d in (image_dir, alpha_dir, trimap_dir):
        (root / d).mkdir(parents=True, exist_ok=True)
    img = np.full((h, w, 3), 90, np.uint8)
    alpha = np.zeros((h, w), np.uint8)
    alpha[: h // 2] = 255
    trimap = alpha.copy()
    trimap[h // 2 - 1: h // 2 + 1] = 128
    Image.fromarray(img).save(root / image_dir / f"{name}{image_ext}")
    Image.fromarray(alpha).save(root / alpha_dir / f"{name}.png")
    Image.fromarray(trimap).save(root / trimap_dir / f"{name}.png")


@pytest.fixture
def aim_root(tmp_path):
    root = tmp_path / "AIM-500"
    for n in ("b", "a", "c"):
        _write(root, n)
    return root


def _labels(root, entries):
    p = root / "aim_category_type.json"
    p.write_text(json.dumps(entries))
    return p


def test_each_dataset_has_one_registered_name():
    assert lookup(DATASETS, "aim500").METAINFO["name"] == "aim500"
    assert "AIM500" not in DATASETS.module_dict
    assert lookup(DATASETS, "folder").__name__ == "FolderDataset"


def test_aim500_lists_sorted_with_unknown_labels(aim_root):
    ds = build(DATASETS, dict(type="aim500", data_root=str(aim_root)))
    assert len(ds) == 3 and ds.names == ["a", "b", "c"]
    info = ds.get_data_info(0)
    assert info["image_path"] == str(aim_root / "original" / "a.jpg")
    assert info["alpha_path"] == str(aim_root / "mask" / "a.png")
    assert info["trimap_path"] == str(aim_root / "trimap" / "a.png")
    assert (info["type"], info["category"]) == ("unknown", "unknown")
    assert ds.metainfo["title"] == "AIM-500" and ds.metainfo["name"] == "aim500"


def test_aim500_labels_and_pipeline(aim_root):
    _labels(aim_root, {"a": {"type": "SO", "category": "toy"}, "b": {"type": "STM", "category": "animal"},
                       "c": {"type": "NS", "category": "plant"}, "extra": {"type": "SO", "category": "toy"}})
    ds = build(DATASETS, dict(type="aim500", data_root=str(aim_root)))
    sample = ds[1]
    assert (sample["name"], sample["type"], sample["category"]) == ("b", "STM", "animal")
    assert sample["image"].shape == (12, 16, 3) and sample["image"].dtype == np.uint8
    assert sample["alpha"].dtype == np.float64 and sample["alpha"].max() == 1.0
    assert sample["trimap"].dtype == np.uint8 and set(np.unique(sample["trimap"])) == {0, 128, 255}


def test_pipeline_without_image_and_empty_pipeline(aim_root):
    ds = build(DATASETS, dict(type="aim500", data_root=str(aim_root),
                              pipeline=[dict(type="LoadMattingSample", load_image=False)]))
    assert "image" not in ds[0] and ds[0]["alpha"].shape == (12, 16)
    ds = build(DATASETS, dict(type="aim500", data_root=str(aim_root), pipeline=[]))
    assert "alpha" not in ds[0] and ds[0]["name"] == "a"


def test_skip_leaves_names_out(aim_root):
    ds = build(DATASETS, dict(type="aim500", data_root=str(aim_root), skip=["b", "zzz"]))
    assert ds.names == ["a", "c"]


def test_labels_missing_stems_named(aim_root):
    p = _labels(aim_root, {"b": {"type": "SO", "category": "toy"}})
    with pytest.raises(InputError) as info:
        build(DATASETS, dict(type="aim500", data_root=str(aim_root)))
    assert info.value.path == str(p)
    assert "2 of 3 images" in str(info.value) and "'a', 'c'" in str(info.value)


def test_labels_bad_type(aim_root):
    p = _labels(aim_root, {n: {"type": "XX" if n == "c" else "SO", "category": "toy"} for n in "abc"})
    with pytest.raises(InputError, match="entry 'c' has type 'XX'") as info:
        build(DATASETS, dict(type="aim500", data_root=str(aim_root)))
    assert info.value.path == str(p)


def test_labels_not_json(aim_root):
    p = aim_root / "aim_category_type.json"
    p.write_text("{not json")
    with pytest.raises(InputError, match="invalid JSON") as info:
        build(DATASETS, dict(type="aim500", data_root=str(aim_root)))
    assert info.value.path == str(p)


def test_explicit_labels_file_must_exist(aim_root):
    with pytest.raises(InputError, match="labels file not found") as info:
        build(DATASETS, dict(type="aim500", data_root=str(aim_root), labels_file="nope.json"))
    assert info.value.path == str(aim_root / "nope.json")


@pytest.mark.parametrize("folder,what", [("mask", "alpha"), ("trimap", "trimap")])
def test_missing_ground_truth_named(aim_root, folder, what):
    (aim_root / folder / "b.png").unlink()
    with pytest.raises(InputError, match=f"{what} missing for image b.jpg") as info:
        build(DATASETS, dict(type="aim500", data_root=str(aim_root)))
    assert info.value.path == str(aim_root / folder / "b.png")


def test_extra_ground_truth_named(aim_root):
    (aim_root / "original" / "c.jpg").unlink()
    with pytest.raises(InputError, match="alpha has no image") as info:
        build(DATASETS, dict(type="aim500", data_root=str(aim_root)))
    assert info.value.path == str(aim_root / "mask" / "c.png")


def test_duplicate_stems_named(aim_root):
    Image.fromarray(np.zeros((12, 16, 3), np.uint8)).save(aim_root / "original" / "a.png")
    with pytest.raises(InputError, match="share the name 'a'"):
        build(DATASETS, dict(type="aim500", data_root=str(aim_root)))


def test_empty_dataset(tmp_path):
    for d in ("original", "mask", "trimap"):
        (tmp_path / d).mkdir()
    (tmp_path / "original" / ".hidden.jpg").write_bytes(b"")
    with pytest.raises(MatbenchError, match="no images found") as info:
        build(DATASETS, dict(type="aim500", data_root=str(tmp_path)))
    assert str(info.value).startswith(f"{tmp_path / 'original'}: ")          # the folder looked in


def test_missing_root_and_folders(tmp_path):
    with pytest.raises(InputError, match="dataset folder not found"):
        build(DATASETS, dict(type="aim500", data_root=str(tmp_path / "nope")))
    with pytest.raises(InputError, match="image folder not found") as info:
        build(DATASETS, dict(type="aim500", data_root=str(tmp_path)))
    assert info.value.path == str(tmp_path / "original")
    with pytest.raises(MatbenchError, match="data_root is required"):
        build(DATASETS, dict(type="folder", data_root=""))


def test_size_mismatch_names_the_file(aim_root):
    Image.fromarray(np.zeros((12, 15), np.uint8)).save(aim_root / "trimap" / "b.png")
    ds = build(DATASETS, dict(type="aim500", data_root=str(aim_root)))
    ds[0]
    with pytest.raises(InputError) as info:
        ds[1]
    assert info.value.path == str(aim_root / "trimap" / "b.png")
    assert "size 15x12 differs from" in str(info.value) and "16x12" in str(info.value)


def test_bad_trimap_value_named_when_loading(aim_root):
    t = np.zeros((12, 16), np.uint8)
    t[0, 0] = 100
    Image.fromarray(t).save(aim_root / "trimap" / "c.png")
    ds = build(DATASETS, dict(type="aim500", data_root=str(aim_root)))
    with pytest.raises(InputError, match="other than 0/128/255") as info:
        ds[2]
    assert info.value.path == str(aim_root / "trimap" / "c.png")


def test_exif_rotated_image_falls_back_to_stored_pixels(aim_root):
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.full((12, 16, 3), 50, np.uint8)).save(aim_root / "original" / "a.jpg", exif=exif)
    sample = build(DATASETS, dict(type="aim500", data_root=str(aim_root)))[0]
    assert sample["image"].shape == (12, 16, 3)


def test_folder_dataset_custom_dirs_and_labels(tmp_path):
    for n in ("x", "y"):
        _write(tmp_path, n, image_dir="img", alpha_dir="gt", trimap_dir="tri", image_ext=".png")
    (tmp_path / "labels.json").write_text(json.dumps({"x": {"type": "SO", "category": "toy"},
                                                      "y": {"type": "NS", "category": "plant"}}))
    ds = build(DATASETS, dict(type="folder", data_root=str(tmp_path), image_dir="img", alpha_dir="gt",
                              trimap_dir="tri", labels_file="labels.json"))
    assert ds.names == ["x", "y"] and ds.get_data_info(1)["type"] == "NS"
    assert ds[0]["image"].shape == (12, 16, 3)


def test_folder_dataset_defaults(tmp_path):
    _write(tmp_path, "only", image_dir="image", alpha_dir="alpha", trimap_dir="trimap", image_ext=".JPG")
    ds = build(DATASETS, dict(type="folder", data_root=str(tmp_path)))
    assert ds.names == ["only"] and ds.groups == []          # no labels file: no groups
    assert "category" not in ds.get_data_info(0)


def test_folder_groups_come_from_its_labels_file(tmp_path):
    import json

    for name in ("a", "b"):
        _write(tmp_path, name, image_dir="image", alpha_dir="alpha", trimap_dir="trimap")
    (tmp_path / "labels.json").write_text(json.dumps({"a": {"lighting": "night"}, "b": {"lighting": "day"}}))
    ds = build(DATASETS, dict(type="folder", data_root=str(tmp_path), labels_file="labels.json"))
    assert [g["key"] for g in ds.groups] == ["lighting"]
    assert list(ds.groups[0]["values"]) == ["day", "night"]
    assert ds.get_data_info(0)["lighting"] == "night"


def test_dataset_without_serialization_and_lazy(aim_root):
    ds = MattingDataset(str(aim_root), image_dir="original", alpha_dir="mask", trimap_dir="trimap",
                        serialize_data=False, lazy_init=True)
    assert ds.data_list == []                     # nothing listed before the first use
    ds.full_init()
    assert ds.names == ["a", "b", "c"]


def test_dataset_indices_and_metainfo_as_mmengine_configs_give_them(aim_root):
    dirs = dict(image_dir="original", alpha_dir="mask", trimap_dir="trimap")
    assert MattingDataset(str(aim_root), indices=2, **dirs).names == ["a", "b"]
    assert MattingDataset(str(aim_root), indices=[2, 0], **dirs).names == ["c", "a"]
    ds = MattingDataset(str(aim_root), metainfo={"title": "mine"}, **dirs)
    assert ds.metainfo["title"] == "mine" and ds.metainfo["name"] == "folder"
    ds.metainfo["title"] = "changed"              # a copy: the dataset's own stays
    assert ds.metainfo["title"] == "mine" and MattingDataset.METAINFO["title"] == "matting folders"
    assert ds.get_data_info(1)["sample_idx"] == 1


def test_load_matting_sample_is_registered():
    t = build(TRANSFORMS, dict(type="LoadMattingSample", load_image=False))
    assert t.load_image is False and "load_image=False" in repr(t)
