"""Classical trimap-based matting methods, wrapping pymatting (imported lazily: it is slow to import).

Each model takes an RGB uint8 image and a 0/128/255 trimap and returns float64 alpha in [0, 1]
that equals the trimap's 0/1 on its known pixels (KNN and LKM only approach them softly).
pymatting refuses a trimap without known foreground or background; the Laplacian system then
has a constant solution, which is returned instead: 0 without foreground, 1 without background,
0.5 when nothing is known. Random-walk matting (``estimate_alpha_rw``) is left out: its solver
does not converge on some of the embedded images.
"""
from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

from matbench.api import MODELS, MatbenchError, TrimapMattingModel


class PymattingModel(TrimapMattingModel):
    """Base: calls ``pymatting.<function>(image, trimap, **kwargs)`` on [0, 1] float64 inputs."""

    function = ""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def predict(self, image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
        image = np.asarray(image, dtype=np.float64) / 255.0
        trimap = np.asarray(trimap, dtype=np.float64) / 255.0
        fg, bg = trimap == 1.0, trimap == 0.0
        unknown = ~(fg | bg)
        if not unknown.any():
            return trimap.astype(np.float64)
        if not fg.any() or not bg.any():
            alpha = trimap.copy()
            alpha[unknown] = 0.0 if bg.any() else (1.0 if fg.any() else 0.5)
            return alpha
        import pymatting

        # pymatting print()s "PERFORMANCE WARNING" when its preconditioner retries with a
        # diagonal shift (the solution is unaffected); keep that out of progress bars and logs
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                alpha = getattr(pymatting, self.function)(image, trimap, **self.kwargs)
            except ValueError as exc:  # e.g. "Conjugate gradient descent did not converge"
                raise MatbenchError(f"{type(self).__name__}: pymatting.{self.function} failed: {exc}") from None
        alpha = np.clip(np.asarray(alpha, dtype=np.float64), 0.0, 1.0)
        alpha[~unknown] = trimap[~unknown]  # KNN and LKM only softly constrain known pixels
        return alpha

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"


@MODELS.register_module(name="ClosedForm")
class ClosedForm(PymattingModel):
    """Closed-form matting (Levin et al., 2008): ``pymatting.estimate_alpha_cf``."""

    #: run by ``matbench demo`` (fast enough for the embedded set on a CPU)
    in_demo = True

    function = "estimate_alpha_cf"


@MODELS.register_module(name="KNN")
class KNN(PymattingModel):
    """KNN matting (Chen et al., 2013): ``pymatting.estimate_alpha_knn``."""

    #: run by ``matbench demo`` (fast enough for the embedded set on a CPU)
    in_demo = True

    function = "estimate_alpha_knn"


@MODELS.register_module(name="LKM")
class LKM(PymattingModel):
    """Large-kernel matting (He et al., 2010): ``pymatting.estimate_alpha_lkm``."""

    function = "estimate_alpha_lkm"
