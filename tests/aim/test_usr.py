"""USR and trimaps against the official process_data / util output (golden digests), the type
rules, the folder writer on an AIM-500 layout, its errors, and tools/make_usr.py."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import load_tool
from matbench.errors import InputError
from matbench_aim.usr import make_usr, trimap_from_alpha, write_usr_folder

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((ROOT / "tests" / "fixtures" / "aim_losses_golden.json").read_text())


_tool = load_tool("make_aim_loss_golden")
usr_alpha, array_digest = _tool.usr_alpha, _tool.array_digest


@pytest.mark.parametrize("case", GOLDEN["usr_cases"], ids=[c["recipe"]["name"] for c in GOLDEN["usr_cases"]])
def test_usr_matches_official(case):
    r = case["recipe"]
    usr = make_usr(usr_alpha(r), r["type"], r["kernel_size"])
    assert usr.dtype == np.uint8 and usr.shape == (r["h"], r["w"])
    assert array_digest(usr) == case["official"]


@pytest.mark.parametrize("case", GOLDEN["trimap_cases"], ids=[c["recipe"]["name"] for c in GOLDEN["trimap_cases"]])
def test_trimap_matches_official(case):
    r = case["recipe"]
    assert array_digest(trimap_from_alpha(usr_alpha(r), r["kernel_size"])) == case["official"]


def test_type_rules():
    alpha = usr_alpha(dict(kind="disc_edge", seed=3, h=80, w=90))
    so = make_usr(alpha, "SO")
    assert set(np.unique(so)) == {0, 128, 255}
    assert np.array_equal(so, trimap_from_alpha(alpha, 30))
    stm = make_usr(alpha, "STM")
    assert np.array_equal(stm, np.where(so == 255, 128, so))
    assert np.array_equal(make_usr(alpha, "NS"), np.full(alpha.shape, 128, np.uint8))
    # every soft pixel lies in the band
    assert np.all(so[(alpha > 0) & (alpha < 255)] == 128)


def test_bad_arguments():
    alpha = np.zeros((8, 8), np.uint8)
    with pytest.raises(ValueError, match="unknown image type"):
        make_usr(alpha, "so")
    with pytest.raises(ValueError, match="uint8 HxW"):
        make_usr(alpha.astype(np.float32), "SO")
    with pytest.raises(ValueError, match="uint8 HxW"):
        trimap_from_alpha(np.zeros((8, 8, 3), np.uint8), 3)
    with pytest.raises(ValueError, match="kernel_size"):
        trimap_from_alpha(alpha, 0)


def _aim_layout(root: Path, labels: dict, size=(70, 60)) -> Path:
    (root / "mask").mkdir(parents=True)
    for i, name in enumerate(labels):
        Image.fromarray(usr_alpha(dict(kind="disc_edge", seed=i, h=size[0], w=size[1]))).save(root / "mask" / f"{name}.png")
    (root / "aim_category_type.json").write_text(json.dumps(labels))
    return root


LABELS = {"a1": {"type": "SO", "category": "animal"}, "b2": {"type": "STM", "category": "plant"},
          "c3": {"type": "NS", "category": "plant"}, "d4": {"type": "SO", "category": "toy"}}


def test_write_usr_folder(tmp_path):
    root = _aim_layout(tmp_path / "AIM-500", LABELS)
    (root / "usr").mkdir()
    (root / "usr" / "keep.txt").write_text("not ours")
    seen = []
    counts = write_usr_folder(root, on_file=seen.append)
    assert dict(counts) == {"SO": 2, "STM": 1, "NS": 1}
    assert seen == sorted(LABELS)
    assert (root / "usr" / "keep.txt").exists()  # unlike the official refresh_folder
    for name, entry in LABELS.items():
        alpha = np.asarray(Image.open(root / "mask" / f"{name}.png"))
        got = np.asarray(Image.open(root / "usr" / f"{name}.png"))
        assert got.dtype == np.uint8 and np.array_equal(got, make_usr(alpha, entry["type"]))
    # labels passed in, another kernel size, another output folder
    counts = write_usr_folder(root, labels={n: {"type": "NS"} for n in LABELS}, kernel_size=5, usr_dir="usr5")
    assert dict(counts) == {"NS": 4}
    assert np.all(np.asarray(Image.open(root / "usr5" / "a1.png")) == 128)


def test_write_usr_folder_errors(tmp_path):
    with pytest.raises(InputError, match="data root not found"):
        write_usr_folder(tmp_path / "missing")
    root = _aim_layout(tmp_path / "AIM", LABELS)
    with pytest.raises(InputError, match="mask folder not found"):
        write_usr_folder(root, mask_dir="masks")
    with pytest.raises(InputError, match="type 'XX'"):
        write_usr_folder(root, labels={n: {"type": "XX"} for n in LABELS})
    with pytest.raises(InputError, match="no type for 1 of 4"):
        write_usr_folder(root, labels={n: LABELS[n] for n in list(LABELS)[:3]})
    bad = dict(LABELS, c3={"type": "STMX", "category": "plant"})
    (root / "aim_category_type.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match="aim_category_type.json"):
        write_usr_folder(root)
    (root / "aim_category_type.json").write_text(json.dumps(LABELS))
    (root / "mask" / "e5.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="e5"):
        write_usr_folder(root, labels=dict(LABELS, e5={"type": "SO"}))
    with pytest.raises(InputError, match="no type for"):
        write_usr_folder(root)


def test_make_usr_tool(tmp_path, capsys):
    # in-process: a subprocess would spend seconds importing torch and mmengine
    tool = load_tool("make_usr")
    root = _aim_layout(tmp_path / "AIM-500", LABELS)
    assert tool.main([str(root), "--kernel-size", "11"]) == 0
    out = capsys.readouterr().out
    assert "wrote 4 USR files" in out and "SO: 2" in out and "STM: 1" in out and "NS: 1" in out
    assert len(list((root / "usr").glob("*.png"))) == 4
    alpha = np.asarray(Image.open(root / "mask" / "a1.png"))
    assert np.array_equal(np.asarray(Image.open(root / "usr" / "a1.png")), make_usr(alpha, "SO", 11))
    assert tool.main([str(tmp_path / "nope")]) == 1
    assert "data root not found" in capsys.readouterr().err
