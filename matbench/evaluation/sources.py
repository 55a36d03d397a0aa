"""Sources of predictions: what the evaluation asks of each, and the folder of precomputed mattes.

A folder is scored without torch or a Runner (the scoring loop reads its PNGs in the metric
workers); methods and networks are Runner models (:mod:`.predictors`, which imports torch).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io import check_regular_file, warn_misnamed
from ..registry import MODELS, build


class PredictionSource:
    """The interface the evaluation uses, whatever makes the predictions."""

    #: whether the samples must carry the RGB image (a folder of mattes needs none)
    needs_image = True
    #: whether the predictions depend on the dataset's trimaps (tables say when they were generated)
    uses_trimap = False
    #: where the evaluation keeps the predictions it scores (8-bit PNGs), or None
    save_dir: Path | None = None

    def describe(self) -> dict:
        """What produced the predictions, for the results file."""
        return {"type": type(self).__name__}

    def input_files(self, name: str) -> dict[str, str]:
        """Files besides the dataset's that image `name`'s prediction is read from, by role."""
        return {}

    def test_label(self) -> str:
        """How the predictions were made, for the "Test" column of tables."""
        return ""

    def published_as(self) -> dict[str, str]:
        """``{reference source: row label}`` of the published rows of the model making the
        predictions (its class's ``references``), so tables put the run next to them."""
        return {}

    def code(self) -> list[object]:
        """The objects whose code makes the predictions (their packages' files are part of the
        run's identity: an edited method recomputes resumed rows)."""
        return [self]

    def attach(self, sample: dict) -> None:
        """Add the prediction to `sample`: ``pred_alpha`` (an array) or ``pred_path``."""
        raise NotImplementedError


@MODELS.register_module()
class PredictionFolder(PredictionSource):
    """Precomputed mattes ``root/<name>.png`` (8-bit: /255; 16-bit: /65535), from any method."""

    needs_image = False

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(self.root, "predictions folder does not exist")

    def files(self) -> dict[str, Path]:
        """``{name: path}`` of the predictions: the folder's non-hidden ``*.png`` entries (hidden
        files, e.g. ``.DS_Store`` or a file named ``.png``, are not predictions)."""
        return {p.name[:-len(".png")]: p for p in sorted(self.root.iterdir())
                if p.name.lower().endswith(".png") and not p.name.startswith(".")}

    def check_names(self, names: list[str]) -> None:
        """Refuse missing and extra prediction files, and entries that are not regular files
        (a FIFO would block the reader forever), before anything is computed."""
        files = self.files()
        missing = sorted(set(names) - set(files))
        extra = sorted(set(files) - set(names))
        if missing:
            raise InputError(self.root / f"{missing[0]}.png",
                             f"prediction missing ({len(missing)} of {len(names)} missing)")
        if extra:
            raise InputError(files[extra[0]],
                             f"prediction has no ground truth in the dataset ({len(extra)} extra files)")
        for name in sorted(names):
            check_regular_file(files[name], "prediction")
        # headers only (~0.1 ms a file), in the main process before metric workers start: said
        # here, a JPEG named .png is reported once, and forked workers inherit that it was
        for name in sorted(names):
            if warn_misnamed(self.root / f"{name}.png"):
                break

    def attach(self, sample: dict) -> None:
        sample["pred_path"] = str(self.root / f"{sample['name']}.png")

    def input_files(self, name: str) -> dict[str, str]:
        return {"prediction": str(self.root / f"{name}.png")}

    def test_label(self) -> str:
        return "predictions"

    def describe(self) -> dict:
        return {"type": "PredictionFolder", "root": str(self.root.resolve())}


def build_source(cfg: dict) -> Any:
    """The source of predictions `cfg` describes; only a model or network imports torch."""
    if cfg["type"] != "PredictionFolder":
        from . import predictors  # noqa: F401  (registers TrimapPredictor and StrategyPredictor)
    return build(MODELS, cfg)
