"""matbench.io: every bad file is an InputError naming that file; conversions are as documented."""
from __future__ import annotations

import io as _io
import os

import numpy as np
import pytest
from PIL import Image

from matbench.errors import InputError
from matbench.io import (check_same_size, read_alpha, read_prediction, read_rgb, read_trimap,
                         write_png_atomic)


def _save(path, array, **kwargs):
    Image.fromarray(array).save(path, **kwargs)
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _raises(path, func, match):
    with pytest.raises(InputError, match=match) as info:
        func(path)
    assert info.value.path == os.fspath(path)
    assert str(info.value).startswith(os.fspath(path) + ": ")
    assert "\n" not in str(info.value)
    return info.value


# --- conversions -----------------------------------------------------------------------------

def test_alpha_8bit_is_exactly_official(tmp_path, rng):
    a = rng.integers(0, 256, (7, 9), dtype=np.uint8)
    p = _save(tmp_path / "a.png", a)
    got = read_alpha(p)
    assert got.dtype == np.float64 and got.shape == (7, 9)
    np.testing.assert_array_equal(got, np.array(Image.open(p)) / 255.)


def test_alpha_16bit_divided_by_65535(tmp_path):
    a = np.array([[0, 1000, 65535], [32768, 257, 12345]], dtype=np.uint16)
    p = _save(tmp_path / "a16.png", a)
    np.testing.assert_array_equal(read_alpha(p), a / 65535.0)
    np.testing.assert_array_equal(read_prediction(p), a / 65535.0)


def test_rgb_alpha_with_equal_channels_uses_channel_0(tmp_path, rng):
    a = rng.integers(0, 256, (5, 6), dtype=np.uint8)
    p = _save(tmp_path / "rgb.png", np.dstack([a, a, a]))
    np.testing.assert_array_equal(read_alpha(p), a / 255.)
    q = _save(tmp_path / "rgba.png", np.dstack([a, a, a, np.full_like(a, 7)]))
    np.testing.assert_array_equal(read_alpha(q), a / 255.)


def test_rgb_alpha_with_differing_channels_refused(tmp_path, rng):
    a = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    p = _save(tmp_path / "colour.png", a)
    _raises(p, read_alpha, "RGB alpha with differing channels")
    _raises(p, read_prediction, "RGB prediction with differing channels")


def test_la_alpha_uses_l(tmp_path, rng):
    a = rng.integers(0, 256, (4, 4), dtype=np.uint8)
    p = tmp_path / "la.png"
    Image.fromarray(np.dstack([a, np.zeros_like(a)])).save(p)
    np.testing.assert_array_equal(read_alpha(p), a / 255.)


def test_float_tiff_refused(tmp_path):
    p = tmp_path / "f.tif"
    Image.fromarray(np.full((4, 4), 0.5, np.float32)).save(p)
    _raises(p, read_alpha, "mode F")


def test_rgb_conversions(tmp_path, rng):
    img = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    np.testing.assert_array_equal(read_rgb(_save(tmp_path / "i.png", img)), img)
    rgba = np.dstack([img, np.full((6, 8), 9, np.uint8)])
    np.testing.assert_array_equal(read_rgb(_save(tmp_path / "i4.png", rgba)), img)
    grey = img[:, :, 0]
    got = read_rgb(_save(tmp_path / "g.png", grey))
    assert got.shape == (6, 8, 3) and (got == grey[:, :, None]).all()
    g16 = np.array([[0, 257, 65535]], np.uint16)
    np.testing.assert_array_equal(read_rgb(_save(tmp_path / "g16.png", g16))[..., 0], [[0, 1, 255]])


def test_rgb_exif_orientation_applied(tmp_path, rng):
    img = rng.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    p = tmp_path / "rot.jpg"
    Image.fromarray(img).save(p, exif=exif, quality=100)
    assert read_rgb(p).shape == (6, 4, 3)
    assert read_rgb(p, apply_exif=False).shape == (4, 6, 3)


def test_trimap_values(tmp_path):
    t = np.array([[0, 128, 255]], np.uint8)
    np.testing.assert_array_equal(read_trimap(_save(tmp_path / "t.png", t)), t)
    rgb = _save(tmp_path / "trgb.png", np.dstack([t, t, t]))
    np.testing.assert_array_equal(read_trimap(rgb), t)
    bad = _save(tmp_path / "bad.png", np.array([[0, 127, 255, 1, 127]], np.uint8))
    err = _raises(bad, read_trimap, "3 pixels with values other than 0/128/255")
    assert "e.g. 1, 127" in str(err)
    bad_rgb = _save(tmp_path / "badrgb.png", np.dstack([t, t, 255 - t]))
    _raises(bad_rgb, read_trimap, "RGB trimap with differing channels")


# --- broken files ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("reader", [read_rgb, read_alpha, read_trimap, read_prediction])
def test_truncated_files(tmp_path, rng, fmt, reader):
    buf = _io.BytesIO()
    img = rng.integers(0, 256, (64, 80), dtype=np.uint8)
    Image.fromarray(img).save(buf, format=fmt)
    p = tmp_path / f"cut.{fmt.lower()}"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) * 2 // 3])
    _raises(p, reader, "cannot read image")


@pytest.mark.parametrize("reader", [read_rgb, read_alpha, read_trimap, read_prediction])
def test_missing_empty_and_garbage(tmp_path, reader):
    _raises(tmp_path / "nope.png", reader, "file not found")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    _raises(empty, reader, "empty file")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not an image at all")
    _raises(junk, reader, "not a readable image")
    _raises(tmp_path, reader, "not a file")


def test_decompression_bomb(tmp_path, monkeypatch):
    p = _save(tmp_path / "big.png", np.zeros((64, 64), np.uint8))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    _raises(p, read_alpha, "too large")


# --- sizes and writing -----------------------------------------------------------------------

def test_check_same_size_names_the_odd_file():
    a, b = np.zeros((600, 800)), np.zeros((480, 640))
    with pytest.raises(InputError) as info:
        check_same_size({"x/alpha.png": a, "x/trimap.png": a, "x/image.jpg": b})
    assert str(info.value) == "x/image.jpg: size 640x480 differs from x/alpha.png 800x600"
    with pytest.raises(InputError) as info:  # the majority decides which one is odd
        check_same_size({"alpha.png": b, "trimap.png": a, "image.jpg": np.zeros((600, 800, 3))})
    assert info.value.path == "alpha.png"
    check_same_size({"a": a, "b": np.zeros((600, 800, 3))})


def test_write_png_atomic_roundtrip(tmp_path, rng):
    a = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    p = tmp_path / "sub" / "out.png"
    write_png_atomic(p, a)
    np.testing.assert_array_equal(np.array(Image.open(p)), a)
    assert [x.name for x in p.parent.iterdir()] == ["out.png"]  # no temp file left
    with pytest.raises(ValueError):
        write_png_atomic(p, a.astype(np.float32))


def test_atomic_write_uses_the_usual_permissions(tmp_path):
    from matbench.io import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "results.json", lambda f: f.write(b"{}"))
        with open(tmp_path / "journal.jsonl", "w") as f:        # what plain open() gives
            f.write("")
    finally:
        os.umask(old)
    assert (tmp_path / "results.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "journal.jsonl").stat().st_mode & 0o777 == 0o644
