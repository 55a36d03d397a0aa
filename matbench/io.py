"""Reading images, mattes and trimaps with validation; writing 8-bit mattes atomically.

Every problem with a file is an :class:`~matbench.errors.InputError` naming the file, with a
one-line reason — never a traceback, never a silently wrong number. Images are fully decoded
(``Image.load()``), so a truncated PNG or JPEG is caught here, not half-read as grey pixels.

Conversions (the official AIM code reads everything with ``np.array(Image.open(p))``):

* **RGB image** (:func:`read_rgb`) → uint8 HxWx3. The EXIF orientation tag is applied (the
  official code ignores it; :class:`matbench.transforms.LoadMattingSample` falls back to the
  stored pixels when only they match the ground truth's size). Greyscale (``L``, ``1``) is
  repeated into 3 channels; ``RGBA``/``LA`` drop alpha, as the official ``img[:, :, :3]``;
  palette and CMYK/YCbCr images are converted by Pillow. 16-bit greyscale is scaled to 8 bits
  by ``round(v / 257)``; 16-bit RGB PNGs are reduced to 8 bits by Pillow itself (high byte).
  Float images (mode ``F``) are refused.
* **Alpha matte / prediction** (:func:`read_alpha`, :func:`read_prediction`) → float64 HxW in
  [0, 1]. 8-bit greyscale: ``v / 255.`` — bit for bit the official ``np.array(...)/255.``.
  16-bit greyscale (Pillow modes ``I;16*``, or ``I`` with values ≤ 65535): ``v / 65535``.
  ``RGB``/``RGBA``/palette: channel 0 (as the official ``alpha[:, :, 0]``) **only if** the
  R, G and B channels are equal everywhere, otherwise refused; the alpha channel of RGBA is
  ignored. ``LA``: the L channel. 1-bit: 0 or 1 (the official code would give 0 or 1/255).
  Refused: float (``F``) images, 16-bit colour PNGs (Pillow would keep only 8 of their bits),
  32-bit integer images with values above 65535, any other mode.
* **Trimap** (:func:`read_trimap`) → uint8 HxW with values in {0, 128, 255} only; any other
  value is refused, naming how many pixels and a few example values. Colour trimaps are
  accepted when their R, G, B channels are equal (channel 0 is used); 16-bit trimaps are refused.

Sizes can be compared from the headers (:func:`image_size`) before anything is decoded: a small
PNG may declare 13000x13000. A matte or trimap whose content is another format than its
extension says (a JPEG named .png: lossy values) is scored, with a
:class:`~matbench.errors.FormatMismatchWarning` once per process (:func:`warn_misnamed`).
"""
from __future__ import annotations

import errno
import json
import os
import struct
import tempfile
import warnings
import zlib
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Mapping

import numpy as np
from PIL import Image, ImageOps

from .errors import FormatMismatchWarning, InputError

__all__ = ["read_rgb", "read_alpha", "read_prediction", "read_trimap", "check_same_size", "check_sizes",
           "image_size", "warn_misnamed", "write_png_atomic", "exif_orientation",
           "size_text"]

TRIMAP_VALUES = (0, 128, 255)
_GREY16_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
#: (format, extension) pairs already reported by :func:`warn_misnamed` in this process
_FORMATS_REPORTED: set[tuple[str, str]] = set()
_SAME_FORMAT = {"MPO": "JPEG"}  # Pillow calls a JPEG with extra frames (many phones') MPO


def size_text(shape: tuple[int, ...]) -> str:
    """``"WxH"`` of an array shape (width first, as image sizes are usually written)."""
    return f"{shape[1]}x{shape[0]}"


def _check_file(path: Path) -> None:
    """Refuse a path that is not a non-empty regular file, saying why (loop, broken link, ...)."""
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(path, "symbolic link loop") from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            if path.is_symlink():
                raise InputError(path, f"broken symbolic link (to {os.readlink(path)})") from None
            raise InputError(path, "file not found") from None
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if not path.is_file():
        raise InputError(path, "not a file")
    if st.st_size == 0:
        raise InputError(path, "empty file (0 bytes)")


@contextmanager
def _quiet_bombs() -> Iterator[None]:
    """No decompression-bomb warning from Pillow: matbench compares the sizes the headers declare
    before decoding anything, and refuses real bombs itself."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


@contextmanager
def _image_errors(path: Path) -> Iterator[None]:
    """Turn Pillow's failures while opening or decoding `path` into an InputError naming it."""
    try:
        with _quiet_bombs():
            yield
    except Image.DecompressionBombError as exc:
        raise InputError(path, f"image too large to decode safely ({exc})") from None
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "cannot identify image file" in reason:
            reason = "not a readable image"
        raise InputError(path, f"cannot read image: {reason}") from None


def _open_header(path: str | os.PathLike) -> Image.Image:
    """The image at `path` with only its header read (size, mode, format; no pixels decoded)."""
    path = Path(path)
    _check_file(path)
    with _image_errors(path):
        img = Image.open(path)
    if img.width == 0 or img.height == 0:
        raise InputError(path, "image has no pixels (0x0)")
    return img


def _open(path: str | os.PathLike) -> Image.Image:
    """The fully decoded image at `path`; every failure is an InputError naming the file."""
    img = _open_header(path)
    with _image_errors(Path(path)):
        tile = list(img.tile)  # the decoder's raw modes, forgotten by load()
        img.load()  # decode everything now: truncated files fail here, not later
    if img.format == "PNG" and not img.info.get("interlace") and not np.asarray(img.crop(
            (0, img.height - 1, img.width, img.height))).any():
        _check_png_rows(Path(path))
    img._matbench_tile = tile  # type: ignore[attr-defined]
    return img


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _check_png_rows(path: Path) -> None:
    """Refuse a PNG whose compressed data ends before its last row. Pillow fills the missing rows
    with zeros without a word, so this is checked when the last row decoded as all zeros (as a
    real matte's often is): by inflating the data again, counting, not keeping, the bytes."""
    data = path.read_bytes()
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    row = 1 + (width * depth * _PNG_CHANNELS.get(colour, 4) + 7) // 8
    inflate, pos, size = zlib.decompressobj(), 8, 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            size += len(inflate.decompress(data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    if size < row * height:
        raise InputError(path, f"cannot read image: PNG image data ends after {size // row} of {height} rows (the rest would "
                               "read as zeros)")


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(height, width)`` of the image at `path` as stored, from its header alone (EXIF
    orientation not applied): cheap even for a file that declares a huge size."""
    with _open_header(path) as img:
        return img.height, img.width


def warn_misnamed(path: str | os.PathLike, fmt: str | None = None) -> bool:
    """Whether the file at `path` holds another format than its extension says (`fmt`: its
    format, or None to read it from the header; unreadable files are left to the readers).

    A JPEG named .png is scored from lossy values without a word otherwise, so a
    :class:`FormatMismatchWarning` is issued — once per process for each (format, extension)."""
    ext = Path(path).suffix.lower()
    if fmt is None:
        try:
            with _quiet_bombs(), Image.open(path) as img:
                fmt = img.format
        except Exception:
            return False
    fmt = _SAME_FORMAT.get(fmt or "", fmt)
    expected = Image.registered_extensions().get(ext)
    if not fmt or not expected or fmt == expected:
        return False
    if (fmt, ext) not in _FORMATS_REPORTED:
        _FORMATS_REPORTED.add((fmt, ext))
        lossy = " (JPEG is lossy: its values are not exactly the matte that was saved)" if fmt == "JPEG" else ""
        warnings.warn(f"{path}: a {fmt} file named {ext}{lossy}; scored as read, said once, other files may "
                      "be alike", FormatMismatchWarning, stacklevel=2)
    return True


def _sixteen_bit_colour(img: Image.Image) -> bool:
    """Whether Pillow decoded a 16-bit colour PNG (it keeps only the high byte of each value)."""
    rawmodes = [t[3] for t in getattr(img, "_matbench_tile", [])]
    return any(isinstance(r, str) and r.endswith(";16B") and not r.startswith("I") for r in rawmodes)


def exif_orientation(path: str | os.PathLike) -> int:
    """The EXIF orientation tag of the image at `path` (1, "as stored", when absent or unreadable)."""
    try:
        with _quiet_bombs(), Image.open(path) as img:
            return int(img.getexif().get(0x0112, 1) or 1)
    except Exception:
        return 1


def read_rgb(path: str | os.PathLike, apply_exif: bool = True) -> np.ndarray:
    """An RGB image as uint8 HxWx3 (EXIF orientation applied unless `apply_exif` is False)."""
    img = _open(path)
    if apply_exif:
        try:
            img = ImageOps.exif_transpose(img)
        except Exception as exc:  # a corrupt EXIF block
            raise InputError(path, f"cannot apply EXIF orientation: {exc}") from None
    mode = img.mode
    if mode == "RGB":
        arr = np.asarray(img)
    elif mode in ("L", "1"):
        arr = np.asarray(img.convert("L"))
    elif mode == "LA":
        arr = np.asarray(img)[:, :, 0]
    elif mode == "RGBA":
        arr = np.asarray(img)[:, :, :3]
    elif mode in _GREY16_MODES or mode == "I":
        grey = np.asarray(img).astype(np.int64)
        if grey.min() < 0 or grey.max() > 65535:
            raise InputError(path, f"unsupported image mode {mode} (values outside 0..65535)")
        arr = np.round(grey / 257.0).astype(np.uint8)
    elif mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "La", "RGBa"):
        arr = np.asarray(img.convert("RGB"))
    else:
        raise InputError(path, f"unsupported image mode {mode} (expected an 8-bit RGB or greyscale image)")
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _equal_channels(arr: np.ndarray, path: str | os.PathLike, what: str, mode: str) -> np.ndarray:
    """Channel 0 of an HxWxC array whose first three channels agree; refuse otherwise (`mode`:
    the file's Pillow mode, named in the message)."""
    rgb = arr[:, :, :3]
    differ = np.count_nonzero((rgb != rgb[:, :, :1]).any(axis=2))
    if differ:
        raise InputError(path, f"{mode} {what} with differing channels (at {differ} of {rgb.shape[0] * rgb.shape[1]} "
                               "pixels; save it as a greyscale PNG)")
    return arr[:, :, 0]


_FAST_PNG = False


def use_fast_png(on: bool = True) -> None:
    """Read 8-bit greyscale PNGs (nearly every matte, trimap and prediction) with
    :mod:`matbench.png` in this process: 1.4x faster than Pillow, the same pixels, but its first
    use costs numba's start-up (~0.4 s). Processes that read many files turn it on (the metric
    workers); one that reads a few has nothing to gain."""
    global _FAST_PNG
    _FAST_PNG = on
    if on:
        from .png import warm_up

        warm_up()


def _grey8(path: str | os.PathLike) -> np.ndarray | None:
    """The pixels of an 8-bit greyscale PNG by the fast reader when it is on, else None."""
    if not _FAST_PNG:
        return None
    from .png import read_grey8_png

    _check_file(Path(path))
    pixels = read_grey8_png(path)
    if pixels is not None:
        warn_misnamed(path, "PNG")
    return pixels


def _read_matte(path: str | os.PathLike, what: str, as_uint8: bool = False) -> np.ndarray:
    pixels = _grey8(path)
    if pixels is not None:
        from .png import unit_scaled

        return pixels if as_uint8 else unit_scaled(pixels)
    img = _open(path)
    warn_misnamed(path, img.format)
    mode = img.mode
    if mode == "L":
        return np.asarray(img) if as_uint8 else np.asarray(img) / 255.0
    if mode == "LA":
        return np.asarray(img)[:, :, 0] / 255.0
    if mode == "1":
        return np.asarray(img).astype(np.float64)
    if mode in _GREY16_MODES or mode == "I":
        if mode == "I" and img.format != "PNG":      # a 32-bit integer image: its scale is unknown
            raise InputError(path, f"unsupported {what}: 32-bit integer {img.format} image; save it as an "
                                   "8- or 16-bit greyscale PNG")
        arr = np.asarray(img).astype(np.int64)
        if arr.min() < 0 or arr.max() > 65535:
            raise InputError(path, f"unsupported {what} mode {mode} (values outside 0..65535)")
        return arr / 65535.0
    if mode in ("RGB", "RGBA", "P", "PA"):
        if _sixteen_bit_colour(img):
            raise InputError(path, f"16-bit colour {what}: only 8 of its bits can be read; "
                                   "save it as a 16-bit greyscale PNG")
        arr = np.asarray(img.convert("RGBA") if mode in ("P", "PA") else img)
        return _equal_channels(arr, path, what, mode) / 255.0
    if mode == "F":
        raise InputError(path, f"unsupported {what} mode F (32-bit float); save it as an 8- or "
                               "16-bit greyscale PNG")
    raise InputError(path, f"unsupported {what} mode {mode} (expected 8- or 16-bit greyscale)")


def read_alpha(path: str | os.PathLike) -> np.ndarray:
    """A ground-truth alpha matte as float64 HxW in [0, 1] (8-bit: /255, 16-bit: /65535)."""
    return _read_matte(path, "alpha")


def read_alpha8(path: str | os.PathLike) -> np.ndarray:
    """A ground-truth alpha matte as uint8 HxW in 0..255: 8-bit files as stored (no float round
    trip), others as :func:`read_alpha` rounded to 8 bits."""
    alpha = _read_matte(path, "alpha", as_uint8=True)
    return alpha if alpha.dtype == np.uint8 else np.round(alpha * 255.0).astype(np.uint8)


def read_prediction(path: str | os.PathLike) -> np.ndarray:
    """A predicted alpha matte as float64 HxW in [0, 1] (8-bit: /255, 16-bit: /65535)."""
    return _read_matte(path, "prediction")


def _decoded_trimap(path: str | os.PathLike) -> np.ndarray:
    """A trimap's single channel as Pillow decodes it (any greyscale or colour mode)."""
    img = _open(path)
    warn_misnamed(path, img.format)
    mode = img.mode
    if mode == "L":
        return np.asarray(img)
    if mode == "LA":
        return np.asarray(img)[:, :, 0]
    if mode == "1":
        return np.asarray(img.convert("L"))
    if mode in ("RGB", "RGBA", "P", "PA"):
        arr = np.asarray(img.convert("RGBA") if mode in ("P", "PA") else img)
        return _equal_channels(arr, path, "trimap", mode)
    raise InputError(path, f"unsupported trimap mode {mode} (expected 8-bit greyscale with 0/128/255)")


def read_trimap(path: str | os.PathLike) -> np.ndarray:
    """A trimap as uint8 HxW whose values are all 0, 128 or 255."""
    from .png import count_other_than

    arr = _grey8(path)
    if arr is None:
        arr = _decoded_trimap(path)
    elif not count_other_than(arr, TRIMAP_VALUES):     # the fast reader's processes: one compiled pass
        return arr
    counts = np.bincount(arr.ravel(), minlength=256)     # one pass: cheaper than np.isin
    counts[list(TRIMAP_VALUES)] = 0
    n_bad = int(counts.sum())
    if n_bad:
        examples = ", ".join(str(v) for v in np.flatnonzero(counts)[:5])
        raise InputError(path, f"trimap has {n_bad} pixel{'s' if n_bad != 1 else ''} with values other than 0/128/255 "
                               f"(e.g. {examples})")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def check_same_size(arrays_by_path: Mapping[str | os.PathLike, np.ndarray]) -> None:
    """Refuse arrays whose HxW differ, naming the odd one out (see :func:`check_sizes`)."""
    check_sizes({p: tuple(np.shape(a)[:2]) for p, a in arrays_by_path.items()})


def check_sizes(sizes_by_path: Mapping[str | os.PathLike, tuple[int, ...]]) -> None:
    """Refuse ``(height, width)`` sizes that differ, naming the odd one out.

    The reference size is the most common one (ties: the first entry's), so with an image, an
    alpha and a trimap the single file that disagrees is named, e.g.
    ``trimap.png: size 640x480 differs from alpha.png 800x600`` (sizes are width x height).
    """
    items = [(os.fspath(p), tuple(size)) for p, size in sizes_by_path.items()]
    if len(items) < 2:
        return
    counts = Counter(size for _, size in items)
    best = max(counts.values())
    common_size = next(size for _, size in items if counts[size] == best)
    common_path = next(p for p, size in items if size == common_size)
    for path, size in items:
        if size != common_size:
            raise InputError(path, f"size {size_text(size)} differs from {common_path} {size_text(common_size)}")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"the key {twice!r} appears twice in one object (which one was meant?)")
    return dict(pairs)


def read_json(path: str | os.PathLike) -> Any:
    """A JSON file's content; an unreadable, non-UTF-8 or malformed file, or one with a key twice
    in an object (JSON readers silently keep the last), is an InputError naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError:
        raise InputError(path, "not a UTF-8 text file") from None
    except ValueError as exc:
        raise InputError(path, f"invalid JSON: {exc}") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_regular_file(path: str | os.PathLike, what: str = "file") -> None:
    """Refuse (one line naming it) what is not a regular file after following links: a folder, a
    FIFO or a device would block or mislead the reader."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(path, f"{what} not found (or a broken link)") from None
    except OSError as exc:
        raise InputError(path, f"cannot read {what}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a special file"
        raise InputError(path, f"not a regular file ({kind}); expected a {what} image")


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], text: bool = False) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, fsync it, then rename it over
    ``path``: readers see the old file or the new one, never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())      # mkstemp makes 0600; a results file is for sharing
        with (os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: how an alpha in [0, 1] becomes 8 bits: ``round`` (matbench's own outputs), ``truncate`` (what
#: ``(alpha * 255).astype(np.uint8)`` in most official test scripts does: every value biased down
#: by half a level on average). A model declares the rule of its official script as ``save_rule``.
SAVE_RULES = {
    "round": lambda scaled: np.round(scaled),
    "truncate": lambda scaled: np.floor(scaled),
}


def to_uint8(alpha: np.ndarray, rule: str = "round") -> np.ndarray:
    """An alpha in [0, 1] as 8 bits by ``rule`` (a key of :data:`SAVE_RULES`)."""
    if rule not in SAVE_RULES:
        raise ValueError(f"unknown save rule {rule!r} (known: {', '.join(SAVE_RULES)})")
    return SAVE_RULES[rule](np.clip(alpha, 0, 1) * 255).astype(np.uint8)


def write_png_atomic(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8 HxW (grey), HxWx3 (RGB) or HxWx4 (RGBA) array as a PNG, atomically."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ValueError(f"write_png_atomic expects uint8 HxW, HxWx3 or HxWx4, got {array.dtype} {array.shape}")
    atomic_write(path, lambda f: Image.fromarray(array).save(f, format="PNG"))
