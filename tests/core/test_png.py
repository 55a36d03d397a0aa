"""matbench.png.read_grey8_png against Pillow's decode (the reference: matbench read every matte
with ``np.asarray(Image.open(p))`` before), on PNGs written by Pillow, by OpenCV and by hand
(every filter type forced, chunk layouts Pillow and OpenCV never write), plus the damaged files
it must refuse and the PNG kinds it must leave to Pillow (None)."""
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from matbench.errors import InputError
from matbench.png import read_grey8_png

SIGNATURE = b"\x89PNG\r\n\x1a\n"
SHAPES = [(1, 1), (1, 9), (9, 1), (17, 5), (300, 200)]


def pillow(path) -> np.ndarray:
    with Image.open(path) as img:
        img.load()
        assert img.mode == "L"
        return np.asarray(img)


def assert_same_as_pillow(path) -> np.ndarray:
    got = read_grey8_png(path)
    assert got is not None and got.dtype == np.uint8
    assert np.array_equal(got, pillow(path))
    return got


def image(kind: str, shape, seed: int = 0) -> np.ndarray:
    """"random": noise (every Paeth predictor choice, wrap-around sums); "smooth": a soft matte
    with flat 0 and 255 regions (what real alphas look like)."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    field = np.sin(yy / 7.0) + np.cos(xx / 11.0) + 0.3 * rng.standard_normal(shape)
    return np.clip(np.round(127.5 + 160 * field), 0, 255).astype(np.uint8)


# ---- a PNG writer for what Pillow and OpenCV do not write ----------------------------------------

def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def paeth_predictor(a, b, c):
    """The PNG spec's predictor, element-wise on int arrays (an independent, vectorised port)."""
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filtered_rows(pixels: np.ndarray, filters) -> bytes:
    """The raw image data: each row prefixed by its filter type and filtered forward with it."""
    img = pixels.astype(np.int64)
    out = []
    for y, kind in enumerate(filters):
        row = img[y]
        up = img[y - 1] if y > 0 else np.zeros_like(row)
        left = np.concatenate([[0], row[:-1]])
        up_left = np.concatenate([[0], up[:-1]])
        prediction = [0, left, up, (left + up) // 2, paeth_predictor(left, up, up_left)][kind]
        out.append(bytes([kind]) + ((row - prediction) % 256).astype(np.uint8).tobytes())
    return b"".join(out)


def png_bytes(pixels=None, filters=None, *, raw=None, shape=None, stream=None, idat_sizes=None,
              before=(), after=(), iend=True, ihdr=None) -> bytes:
    """An 8-bit grey PNG of `pixels` with one filter type per row (`filters`, default all
    Paeth), or of the given `raw` image data / zlib `stream`; `idat_sizes`: split the stream into
    IDAT chunks of these sizes (the rest in a last one); `before`/`after`: (type, data) chunks
    around the image data; `ihdr`: (depth, colour, compression, filter, interlace)."""
    if shape is None:
        shape = pixels.shape
    if raw is None and stream is None:
        raw = filtered_rows(pixels, [4] * shape[0] if filters is None else filters)
    if stream is None:
        stream = zlib.compress(raw)
    parts, pos = [], 0
    for size in idat_sizes or ():
        parts.append(stream[pos:pos + size])
        pos += size
    parts.append(stream[pos:])
    fields = struct.pack(">II", shape[1], shape[0]) + bytes(ihdr or (8, 0, 0, 0, 0))
    return b"".join([SIGNATURE, chunk(b"IHDR", fields), *(chunk(k, d) for k, d in before),
                     *(chunk(b"IDAT", p) for p in parts), *(chunk(k, d) for k, d in after),
                     chunk(b"IEND", b"") if iend else b""])


def write(tmp_path, data: bytes, name: str = "m.png"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---- files written by Pillow and OpenCV ----------------------------------------------------------

@pytest.mark.parametrize("kind", ["random", "smooth"])
@pytest.mark.parametrize("shape", SHAPES)
def test_pillow_saved(tmp_path, shape, kind):
    pixels = image(kind, shape)
    settings = [{"compress_level": level} for level in range(10)] + [{"optimize": True}]
    for i, options in enumerate(settings):
        path = tmp_path / f"{i}.png"
        Image.fromarray(pixels).save(path, **options)
        assert np.array_equal(assert_same_as_pillow(path), pixels), options


OPENCV = ([[cv2.IMWRITE_PNG_COMPRESSION, level] for level in range(10)]
          + [[cv2.IMWRITE_PNG_STRATEGY, getattr(cv2, f"IMWRITE_PNG_STRATEGY_{s}")]
             for s in ("DEFAULT", "FILTERED", "HUFFMAN_ONLY", "RLE", "FIXED")]
          + [[cv2.IMWRITE_PNG_FILTER, getattr(cv2, f"IMWRITE_PNG_{f}")]
             for f in ("FILTER_NONE", "FILTER_SUB", "FILTER_UP", "FILTER_AVG", "FILTER_PAETH",
                       "FAST_FILTERS", "ALL_FILTERS")])


@pytest.mark.parametrize("kind", ["random", "smooth"])
@pytest.mark.parametrize("shape", [(1, 1), (9, 1), (17, 5), (300, 200)])
def test_opencv_saved(tmp_path, shape, kind):
    pixels = image(kind, shape, seed=1)
    for i, params in enumerate(OPENCV):
        path = tmp_path / f"{i}.png"
        assert cv2.imwrite(str(path), pixels, params)
        assert np.array_equal(assert_same_as_pillow(path), pixels), params


def test_realistic_matte(tmp_path):
    """A soft matte the size of a small photo, solid regions and all, saved the usual ways."""
    pixels = image("smooth", (600, 500), seed=2)
    pixels[:200] = 0
    pixels[-100:, :] = 255
    Image.fromarray(pixels).save(tmp_path / "pil.png")
    cv2.imwrite(str(tmp_path / "cv2.png"), pixels)
    for name in ("pil.png", "cv2.png"):
        assert np.array_equal(assert_same_as_pillow(tmp_path / name), pixels)


@pytest.fixture(params=["isal", "zlib"])
def inflate(request, monkeypatch):
    """The same pixels and the same refusals from ISA-L's inflate (when installed) and zlib's
    (the fallback on a platform without the isal wheel)."""
    import matbench.png as png

    if request.param == "zlib":
        monkeypatch.setattr(png, "inflate", zlib)
    elif png.inflate is zlib:
        pytest.skip("isal is not installed")


# ---- every filter type, hand-written chunk layouts ----------------------------------------------

@pytest.mark.parametrize("filters", ["none", "sub", "up", "average", "paeth", "mixed"])
@pytest.mark.parametrize("shape", SHAPES[:4] + [(64, 33)])
def test_every_filter_forced(inflate, tmp_path, shape, filters):
    rng = np.random.default_rng(3)
    for kind in ("random", "smooth"):
        pixels = image(kind, shape, seed=4)
        if filters == "mixed":  # pairs and runs of Paeth rows next to every other type
            types = list(rng.choice([0, 1, 2, 3, 4, 4, 4], shape[0]))
        else:
            types = [["none", "sub", "up", "average", "paeth"].index(filters)] * shape[0]
        path = write(tmp_path, png_bytes(pixels, types))
        assert np.array_equal(assert_same_as_pillow(path), pixels), (kind, types)


@pytest.mark.parametrize("width", [1, 3, 4, 5, 8, 37])
@pytest.mark.parametrize("height", [3, 4, 5, 7, 9, 13])
def test_paeth_runs_of_every_length(tmp_path, width, height):
    """Runs of 1 to 13 Paeth rows (decoded four, two or one at a time) at widths around the
    four-row decoder's minimum, after and before other filter types."""
    for kind in ("random", "smooth"):
        pixels = image(kind, (height + 2, width), seed=width + height)
        path = write(tmp_path, png_bytes(pixels, [2] + [4] * height + [1]))
        assert np.array_equal(assert_same_as_pillow(path), pixels), (kind, width, height)


def test_unit_scaled_and_trimap_count_are_numpys():
    from matbench.png import count_other_than, unit_scaled

    pixels = np.random.default_rng(5).integers(0, 256, (37, 53), dtype=np.uint8)
    assert unit_scaled(pixels).tobytes() == (pixels / 255.0).tobytes()
    assert unit_scaled(pixels[:, ::2]).tobytes() == (pixels[:, ::2] / 255.0).tobytes()
    assert count_other_than(pixels, (0, 128, 255)) == np.isin(pixels, [0, 128, 255], invert=True).sum()
    trimap = np.where(pixels < 85, 0, np.where(pixels < 170, 128, 255)).astype(np.uint8)
    assert count_other_than(trimap, (0, 128, 255)) == 0


def test_paeth_ties():
    """The test's own predictor breaks ties as the spec says: a before c, b before c."""
    a, b, c = np.array([10, 25, 10]), np.array([25, 10, 20]), np.array([20, 20, 15])
    assert paeth_predictor(a, b, c).tolist() == [10, 10, 15]  # a (over c), b (over c), c


@pytest.mark.parametrize("idat_sizes", [[0], [1] * 40, [7, 0, 13], [10 ** 6]])
def test_multiple_idat_chunks(tmp_path, idat_sizes):
    pixels = image("random", (17, 5))
    path = write(tmp_path, png_bytes(pixels, idat_sizes=idat_sizes))
    assert np.array_equal(assert_same_as_pillow(path), pixels)


@pytest.mark.parametrize("name, options", [
    ("text chunks", {"before": [(b"tEXt", b"Software\0x"), (b"zTXt", b"a\0\0" + zlib.compress(b"b"))],
                     "after": [(b"tEXt", b"Comment\0after the data")]}),
    ("gAMA sRGB sBIT", {"before": [(b"gAMA", struct.pack(">I", 100000)), (b"sRGB", b"\0"), (b"sBIT", b"\4")]}),
    ("unknown chunks", {"before": [(b"prVt", b"xyz"), (b"ABCD", b"")]}),
    ("rows beyond the image", {}),
    ("no IEND", {"iend": False}),
])
def test_ignored_like_pillow(tmp_path, name, options):
    pixels = image("smooth", (17, 5))
    raw = filtered_rows(pixels, [4] * 17)
    if name == "rows beyond the image":
        raw += filtered_rows(image("random", (3, 5)), [1, 2, 4])
    path = write(tmp_path, png_bytes(raw=raw, shape=pixels.shape, **options))
    assert np.array_equal(assert_same_as_pillow(path), pixels)


def test_data_after_iend_is_ignored(tmp_path):
    pixels = image("random", (9, 1))
    path = write(tmp_path, png_bytes(pixels) + b"trailing garbage" * 10)
    assert np.array_equal(assert_same_as_pillow(path), pixels)


def test_transparent_grey_value(tmp_path):
    """Pillow keeps a grey PNG with tRNS in mode L with the stored values (the transparent value
    only goes to img.info), so it is read here too, not left to Pillow."""
    pixels = image("smooth", (17, 5))
    Image.fromarray(pixels).save(tmp_path / "t.png", transparency=int(pixels[0, 0]))
    with Image.open(tmp_path / "t.png") as img:
        assert img.mode == "L" and "transparency" in img.info
    assert np.array_equal(assert_same_as_pillow(tmp_path / "t.png"), pixels)


# ---- damaged files: an InputError naming the file -----------------------------------------------

def assert_refused(path, *needles):
    with pytest.raises(InputError) as info:
        read_grey8_png(path)
    assert info.value.path == str(path)
    assert "\n" not in str(info.value)
    for needle in needles:
        assert needle in info.value.problem, info.value.problem
    return info.value.problem


def test_truncated_file(inflate, tmp_path):
    pixels = image("random", (40, 30))
    data = png_bytes(pixels)
    start = data.index(b"IDAT") + 4
    for cut in (start, start + 10, start + 400, start + len(zlib.compress(filtered_rows(pixels, [4] * 40))) - 40):
        path = write(tmp_path, data[:cut])
        problem = assert_refused(path, "PNG image data ends after", "of 40 rows", "would read as zeros")
        assert int(problem.split("after ")[1].split()[0]) < 40


def test_short_zlib_stream_is_not_read_as_zeros(inflate, tmp_path):
    """A complete zlib stream holding fewer rows than the header declares: Pillow fills the
    rest with zeros without a word."""
    pixels = image("random", (10, 6))
    path = write(tmp_path, png_bytes(raw=filtered_rows(pixels, [4] * 10)[:7 * 7], shape=pixels.shape))
    assert pillow(path)[7:].max() == 0  # Pillow's silent zeros
    assert_refused(path, "PNG image data ends after 7 of 10 rows")


def test_image_data_interrupted_by_another_chunk(tmp_path):
    """IDAT chunks must follow each other; Pillow stops reading image data at another chunk."""
    pixels = image("random", (10, 6))
    stream = zlib.compress(filtered_rows(pixels, [4] * 10))
    data = png_bytes(stream=stream[:20], shape=pixels.shape, after=[(b"tEXt", b"a\0b"), (b"IDAT", stream[20:])])
    assert_refused(write(tmp_path, data), "PNG image data ends after")


@pytest.mark.parametrize("damage", ["header", "middle", "checksum"])
def test_corrupt_zlib_stream(inflate, tmp_path, damage):
    stream = bytearray(zlib.compress(filtered_rows(image("random", (30, 20)), [4] * 30), 9))
    if damage == "header":
        stream[0] = 0x79  # not deflate
    elif damage == "middle":
        stream[len(stream) // 2:len(stream) // 2 + 8] = b"\xff" * 8
    else:
        stream[-1] ^= 1  # Adler-32 (Pillow checks it too)
    path = write(tmp_path, png_bytes(stream=bytes(stream), shape=(30, 20)))
    with pytest.raises(OSError):
        pillow(path)
    assert_refused(path, "cannot read image: corrupt PNG image data (zlib:")


@pytest.mark.parametrize("filter_type", [5, 255])
def test_bad_filter_type(tmp_path, filter_type):
    pixels = image("random", (6, 4))
    raw = bytearray(filtered_rows(pixels, [4] * 6))
    raw[3 * 5] = filter_type
    path = write(tmp_path, png_bytes(raw=bytes(raw), shape=pixels.shape))
    with pytest.raises(OSError):
        pillow(path)
    assert_refused(path, f"unknown PNG filter type {filter_type} in row 4 of 6")


@pytest.mark.parametrize("kind", [b"IHDR", b"gAMA"])
def test_bad_checksum_before_the_image_data(tmp_path, kind):
    data = bytearray(png_bytes(image("random", (5, 5)), before=[(b"gAMA", struct.pack(">I", 45455))]))
    end = data.index(kind) + 4 + (13 if kind == b"IHDR" else 4)
    data[end] ^= 1
    path = write(tmp_path, bytes(data))
    with pytest.raises(Exception):  # Pillow checks the CRCs of these chunks, too
        pillow(path)
    assert_refused(path, f"bad header checksum in {kind!r}")


def test_bad_checksum_of_image_data_is_ignored_like_pillow(tmp_path):
    """Pillow does not check IDAT CRCs (zlib's Adler-32 covers the data): neither does this."""
    pixels = image("random", (5, 5))
    data = bytearray(png_bytes(pixels))
    data[data.index(b"IEND") - 8] ^= 1  # the last byte of the IDAT CRC
    assert np.array_equal(assert_same_as_pillow(write(tmp_path, bytes(data))), pixels)


def test_header_cut_short(tmp_path):
    assert_refused(write(tmp_path, png_bytes(image("random", (5, 5)))[:25]), "ends inside its header")


def test_no_pixels(tmp_path):
    assert_refused(write(tmp_path, png_bytes(raw=b"", shape=(4, 0))), "image has no pixels (0x4)")


def test_decompression_bomb(tmp_path, monkeypatch):
    """A small file declaring more pixels than Pillow will decode is refused before any allocation."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    path = write(tmp_path, png_bytes(raw=zlib.compress(b""), shape=(50, 41)))
    assert_refused(path, "image too large to decode safely", "2050 pixels", "limit of 2000 pixels")
    assert read_grey8_png(write(tmp_path, png_bytes(image("random", (50, 40))), "ok.png")) is not None


def test_missing_file(tmp_path):
    assert_refused(tmp_path / "nope.png", "cannot read")


# ---- not 8-bit grey, or not a PNG: None, for Pillow -----------------------------------------------

def adam7(pixels: np.ndarray) -> bytes:
    """Raw data of an interlaced image (filter type None in every row of every pass)."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    out = b""
    for x0, y0, dx, dy in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            out += b"".join(b"\0" + row.tobytes() for row in sub)
    return out


@pytest.mark.parametrize("mode", ["I;16", "RGB", "RGBA", "P", "LA", "1"])
def test_other_modes_are_left_to_pillow(tmp_path, mode):
    grey = image("smooth", (17, 5))
    img = {"I;16": lambda: Image.fromarray(grey.astype(np.uint16) * 257),
           "RGB": lambda: Image.fromarray(np.dstack([grey] * 3)),
           "RGBA": lambda: Image.fromarray(np.dstack([grey] * 4)),
           "P": lambda: Image.fromarray(grey).convert("P"),
           "LA": lambda: Image.fromarray(np.dstack([grey] * 2), "LA"),
           "1": lambda: Image.fromarray(grey > 127)}[mode]()
    img.save(tmp_path / "m.png")
    assert read_grey8_png(tmp_path / "m.png") is None


def test_interlaced_is_left_to_pillow(tmp_path):
    pixels = image("random", (17, 5))
    path = write(tmp_path, png_bytes(raw=adam7(pixels), shape=pixels.shape, ihdr=(8, 0, 0, 0, 1)))
    assert np.array_equal(pillow(path), pixels)  # a valid interlaced file
    assert read_grey8_png(path) is None


def test_animated_png_is_left_to_pillow(tmp_path):
    frames = [Image.fromarray(image("random", (9, 7), seed=s)) for s in range(2)]
    frames[0].save(tmp_path / "a.png", save_all=True, append_images=frames[1:])
    assert read_grey8_png(tmp_path / "a.png") is None


@pytest.mark.parametrize("name, data", [
    ("unknown compression method", png_bytes(image("random", (5, 5)), ihdr=(8, 0, 1, 0, 0))),
    ("short tRNS", png_bytes(image("random", (5, 5)), before=[(b"tRNS", b"\0")])),
    ("plain text", b"not an image at all\n"),
])
def test_oddities_are_left_to_pillow(tmp_path, name, data):
    assert read_grey8_png(write(tmp_path, data)) is None


def test_jpeg_named_png(tmp_path):
    Image.fromarray(image("smooth", (17, 5))).save(tmp_path / "j.png", format="JPEG")
    assert read_grey8_png(tmp_path / "j.png") is None
