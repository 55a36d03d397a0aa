"""``matbench predict``: alpha mattes (and on request cutouts, composites, trimaps) for photos."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from .errors import InputError, MatbenchError
from .evaluation.predictors import build_network, image_tensor, run_guarded
from .io import read_rgb, write_png_atomic
from .registry import STRATEGIES, build

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
NAMED_COLOURS = {"white": (255, 255, 255), "black": (0, 0, 0), "green": (0, 177, 64),
                 "blue": (0, 71, 187), "red": (237, 28, 36), "grey": (128, 128, 128)}


@dataclass
class PredictJob:
    """What to predict and what to write."""

    inputs: Sequence[Path]
    out: Path
    model: dict
    strategy: dict
    checkpoint: Optional[str] = None
    random_weights: bool = False
    device: str = "cpu"
    amp: Optional[str] = None
    channels_last: bool = False
    cutout: bool = False
    composite: Optional[str] = None
    save_trimap: bool = False


def collect_images(inputs: Sequence[Path]) -> list[Path]:
    """Image files named on the command line, folders expanded (sorted); stems must be unique."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise InputError(item, f"no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
            files += found
        elif item.is_file():
            files.append(item)
        else:
            raise InputError(item, "no such file or folder")
    stems: dict[str, Path] = {}
    for f in files:
        if f.stem in stems:
            raise InputError(f, f"same name as {stems[f.stem]}: outputs would overwrite each other")
        stems[f.stem] = f
    return files


def parse_colour(text: str) -> tuple[int, int, int]:
    """A colour name (white, black, green, blue, red, grey), '#RRGGBB' or 'R,G,B'."""
    text = text.strip().lower()
    if text in NAMED_COLOURS:
        return NAMED_COLOURS[text]
    try:
        if text.startswith("#") and len(text) == 7:
            rgb = tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))
        else:
            rgb = tuple(int(v) for v in text.split(","))
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise MatbenchError(f"cannot read colour '{text}' (a name: {', '.join(NAMED_COLOURS)}; '#RRGGBB'; or 'R,G,B')")
    return rgb  # type: ignore[return-value]


def to_uint8(alpha: np.ndarray) -> np.ndarray:
    """Round to 8 bits (the official saver truncates, which biases every value down by half a level)."""
    return np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)


def output_paths(job: PredictJob, stem: str) -> dict[str, Path]:
    """The files written for the image named `stem`, by kind: ``alpha`` always, then ``cutout``,
    ``composite`` and ``trimap`` when requested. The one place outputs are named."""
    paths = {"alpha": job.out / f"{stem}.png"}
    if job.cutout:
        paths["cutout"] = job.out / f"{stem}_cutout.png"
    if job.composite:
        paths["composite"] = job.out / f"{stem}_on_{job.composite.strip('#').replace(',', '-')}.png"
    if job.save_trimap:
        paths["trimap"] = job.out / f"{stem}_trimap.png"
    return paths


def check_no_overwrite(job: PredictJob, images: Sequence[Path]) -> None:
    """Refuse any output that would replace an input image, before any work.

    ``--out`` may be the input folder as long as no written name is an input's (JPEG photos
    next to their PNG mattes are fine; PNG photos would be replaced by their mattes)."""
    inputs = {p.resolve(): p for p in images}
    for image in images:
        for kind, out in output_paths(job, image.stem).items():
            victim = inputs.get(out.resolve())
            if victim is not None:
                whose = "its" if victim == image else f"the {image.name}"
                raise InputError(victim, f"input image that predict would overwrite with {whose} {kind} "
                                         "output (choose another --out)")


def write_outputs(job: PredictJob, stem: str, rgb: np.ndarray, result: dict[str, torch.Tensor]) -> list[Path]:
    """The alpha PNG and the requested extras for one image; each file written atomically."""
    alpha = result["alpha"].double().cpu().numpy()
    alpha8 = to_uint8(alpha)
    paths = output_paths(job, stem)
    write_png_atomic(paths["alpha"], alpha8)
    if job.cutout:
        write_png_atomic(paths["cutout"], np.dstack([rgb, alpha8]))
    if job.composite:
        colour = np.array(parse_colour(job.composite), dtype=np.float64)
        a = alpha[..., None]
        comp = np.round(a * rgb + (1 - a) * colour).astype(np.uint8)
        write_png_atomic(paths["composite"], comp)
    if job.save_trimap:
        if "trimap" not in result:
            raise MatbenchError(f"strategy '{job.strategy['type']}' makes no trimap to save")
        write_png_atomic(paths["trimap"], result["trimap"].cpu().numpy().astype(np.uint8))
    return list(paths.values())


def run_predict(job: PredictJob) -> list[Path]:
    """Predict every image of ``job``; returns the files written."""
    from rich.progress import Progress

    if job.composite:
        parse_colour(job.composite)                          # refuse a bad colour before any work
    images = collect_images(job.inputs)
    check_no_overwrite(job, images)
    strategy = build(STRATEGIES, job.strategy)
    network = build_network(job.model, job.checkpoint, job.random_weights, strategy, job.channels_last)
    network = network.to(job.device)
    written: list[Path] = []
    with Progress(transient=True) as progress, torch.no_grad():
        task = progress.add_task(f"{job.model['type']} / {job.strategy['type']}", total=len(images))
        for path in images:
            rgb = read_rgb(path)
            image = image_tensor(rgb, job.device)
            result = run_guarded(lambda: strategy.run(network, image), torch.device(job.device), job.amp, path)
            bad = int(result["alpha"].numel() - torch.isfinite(result["alpha"]).sum())
            if bad:  # the 8-bit conversion would write NaN as a plausible 0
                raise InputError(path, f"strategy '{job.strategy['type']}' gave {bad} non-finite (NaN/inf) alpha values")
            written += write_outputs(job, path.stem, rgb, result)
            progress.advance(task)
    return written
