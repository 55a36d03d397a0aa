"""``matbench predict``: alpha mattes (and on request cutouts, composites, trimaps) for photos,
from a network, or from a trimap-based network or method given the photos' trimaps."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import torch

from .errors import InputError, MatbenchError
from .networks import (build_network, check_trimap_support, checked_alpha, image_tensor, run_guarded, run_strategy,
                       takes_trimap, trimap_tensor)
from .io import check_same_size, read_rgb, read_trimap, to_uint8, write_png_atomic
from .models import TrimapMattingModel
from .registry import MODELS, STRATEGIES, build

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
    #: trimap files or folders, matched to the images by stem (trimap-based models)
    trimaps: Sequence[Path] = ()
    #: torch's threads (default: the CPUs this process may use)
    threads: Optional[int] = None


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


def collect_trimaps(inputs: Sequence[Path], images: Sequence[Path]) -> dict[str, Path]:
    """``{image stem: trimap file}`` from trimap files and folders named on the command line;
    every image needs one."""
    by_stem: dict[str, Path] = {}
    for item in inputs:
        if item.is_dir():
            files = sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        elif item.is_file():
            files = [item]
        else:
            raise InputError(item, "no such trimap file or folder")
        for f in files:
            if f.stem in by_stem:
                raise InputError(f, f"two trimaps for '{f.stem}' (and {by_stem[f.stem]})")
            by_stem[f.stem] = f
    missing = [p for p in images if p.stem not in by_stem]
    if missing:
        raise InputError(missing[0], f"no trimap named '{missing[0].stem}' in --trimap "
                                     f"({len(missing)} of {len(images)} images have none)")
    return {p.stem: by_stem[p.stem] for p in images}


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


def output_paths(job: PredictJob, stem: str) -> dict[str, Path]:
    """The files written for the image named `stem`, by kind: ``alpha`` always (``OUT/<stem>.png``,
    so that ``OUT`` is a predictions folder ``matbench eval --predictions`` scores as it is), then
    ``cutout``, ``composite`` and ``trimap`` when requested, each in a sub-folder of its own. The
    one place outputs are named."""
    paths = {"alpha": job.out / f"{stem}.png"}
    if job.cutout:
        paths["cutout"] = job.out / "cutout" / f"{stem}.png"
    if job.composite:
        paths["composite"] = job.out / "composite" / f"{stem}_on_{job.composite.strip('#').replace(',', '-')}.png"
    if job.save_trimap:
        paths["trimap"] = job.out / "trimap" / f"{stem}.png"
    return paths


def check_no_overwrite(job: PredictJob, images: Sequence[Path], trimaps: Mapping[str, Path] = {}) -> None:
    """Refuse any output that would replace an input (a photo or a trimap), before any work.

    ``--out`` may be an input folder as long as no written name is an input's (JPEG photos next
    to their PNG mattes are fine; PNG photos or PNG trimaps would be replaced by the mattes)."""
    inputs = {p.resolve(): ("image", p) for p in images}
    inputs.update({p.resolve(): ("trimap", p) for p in trimaps.values()})
    for image in images:
        for kind, out in output_paths(job, image.stem).items():
            role, victim = inputs.get(out.resolve(), (None, None))
            if victim is not None:
                whose = "its" if victim in (image, trimaps.get(image.stem)) else f"the {image.name}"
                raise InputError(victim, f"input {role} that predict would overwrite with {whose} {kind} "
                                         "output (choose another --out)")


def write_outputs(job: PredictJob, stem: str, rgb: np.ndarray, result: dict[str, torch.Tensor],
                  save_rule: str | None = None) -> list[Path]:
    """The alpha PNG (8 bits by the model's ``save_rule``, rounded when it has none) and the
    requested extras for one image; each file written atomically."""
    alpha = result["alpha"].double().cpu().numpy()
    alpha8 = to_uint8(alpha, save_rule or "round")
    if save_rule:
        alpha = alpha8 / 255.0                    # the extras show the matte that was saved
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
            raise MatbenchError(f"strategy '{job.strategy.get('type', job.model['type'])}' makes no trimap to save")
        write_png_atomic(paths["trimap"], result["trimap"].cpu().numpy().astype(np.uint8))
    return list(paths.values())


def run_predict(job: PredictJob) -> list[Path]:
    """Predict every image of ``job``; returns the files written."""
    from rich.console import Console
    from rich.progress import Progress

    if job.composite:
        parse_colour(job.composite)                          # refuse a bad colour before any work
    if job.out.exists() and not job.out.is_dir():
        raise InputError(job.out, "--out is a file, not a folder")
    from .threads import available_cpus, set_torch_threads

    set_torch_threads(job.threads or available_cpus())
    images = collect_images(job.inputs)
    given_trimaps = collect_trimaps(job.trimaps, images) if job.trimaps else {}
    check_no_overwrite(job, images, given_trimaps)
    predict_one, uses_trimap, save_rule = _predictor(job)
    if uses_trimap and not job.trimaps:
        raise MatbenchError(f"model '{job.model['type']}' is trimap-based: give the photos' trimaps with "
                            "--trimap FILE|DIR (matched by name)")
    if job.trimaps and not uses_trimap:
        raise MatbenchError(f"model '{job.model['type']}' takes no trimap: leave out --trimap")
    trimaps = given_trimaps if uses_trimap else {}
    made_by = f"model '{job.model['type']}'" + (f" (strategy '{job.strategy['type']}')" if job.strategy else "")
    written: list[Path] = []
    console = Console(stderr=True)
    with Progress(transient=True, console=console, disable=not console.is_terminal) as progress, torch.no_grad():
        name = " / ".join(filter(None, (job.model["type"], job.strategy.get("type"))))
        task = progress.add_task(name, total=len(images))
        for path in images:
            rgb = read_rgb(path)
            trimap = None
            if uses_trimap:
                trimap = read_trimap(trimaps[path.stem])
                check_same_size({path: rgb, trimaps[path.stem]: trimap})
            result = predict_one(path, rgb, trimap)
            # the 8-bit conversion would write NaN as a plausible 0 and clip a x255 output
            result["alpha"] = torch.from_numpy(checked_alpha(result["alpha"], rgb.shape[:2], made_by, path))
            written += write_outputs(job, path.stem, rgb, result, save_rule)
            progress.advance(task)
    return written


def _predictor(job: PredictJob):
    """``(predict_one(path, rgb, trimap) -> {"alpha": ...}, whether it takes trimaps, its save
    rule)`` for the job's model: a trimap-based method at native size, or a network through its
    strategy."""
    model = build(MODELS, job.model) if not job.strategy else None
    if isinstance(model, TrimapMattingModel):
        def predict_method(path: Path, rgb: np.ndarray, trimap: np.ndarray) -> dict[str, torch.Tensor]:
            return {"alpha": model.predict(rgb, trimap)}
        return predict_method, True, getattr(model, "save_rule", None)
    strategy = build(STRATEGIES, job.strategy)
    network = build_network(job.model, job.checkpoint, job.random_weights, strategy, job.channels_last)
    network = network.to(job.device)
    check_trimap_support(strategy, network, job.model["type"])

    def predict_network(path: Path, rgb: np.ndarray, trimap: np.ndarray | None) -> dict[str, torch.Tensor]:
        image = image_tensor(rgb, job.device)
        tri = trimap_tensor(trimap, job.device) if trimap is not None else None
        return run_guarded(lambda: run_strategy(strategy, network, image, tri), torch.device(job.device), job.amp, path)
    return predict_network, takes_trimap(network), getattr(network, "save_rule", None)
