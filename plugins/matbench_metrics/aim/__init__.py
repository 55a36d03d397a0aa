"""The "aim" metric variant: SAD, MSE, MAD (whole image, trimap-fixed, fg, bg), Conn and Grad
exactly as the official AIM code (``core/evaluate.py``, ``core/test.py``) computes them.

One pure function per metric (``sad_mse_mad``, ``gradient``, ``connectivity`` modules),
``aim_metrics`` for all ten, ``aim_metrics_torch`` for tensors, ``reference`` for the plain port.
"""
from matbench.api import METRICS, ImageMetric

from .connectivity import conn
from .gradient import grad
from .sad_mse_mad import (mad, mad_trimap, mse, mse_trimap, sad, sad_bg, sad_fg, sad_mse_mad_group,
                          sad_trimap)
from .suite import KEYS, aim_metrics

__all__ = ["AimMetric", "KEYS", "aim_metrics", "aim_metrics_torch", "conn", "grad", "mad", "mad_trimap",
           "mse", "mse_trimap", "sad", "sad_bg", "sad_fg", "sad_mse_mad_group", "sad_trimap"]


def __getattr__(name: str) -> object:
    """``aim_metrics_torch`` at its first use: importing torch is not the plugin's cost to pay."""
    if name == "aim_metrics_torch":
        from .torch_path import aim_metrics_torch

        return aim_metrics_torch
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@METRICS.register_module(name="aim")
class AimMetric(ImageMetric):
    """Per-image metrics of the "aim" variant (official AIM-500 evaluation), averaged over images.

    Keys: ``sad, mse, mad`` (whole image), ``sad_trimap, mse_trimap, mad_trimap`` (prediction
    forced to the trimap's 0 / 1 outside the unknown region; MSE / MAD per unknown pixel, None
    for an image without unknown pixels), ``sad_fg, sad_bg``, ``conn``, ``grad``. SAD-like values
    are sums / 1000, as in the paper's tables.
    """

    variant = "aim"
    default = True
    keys = KEYS
    title = "official AIM code"
    columns = (("sad", "SAD", 2), ("mse", "MSE", 4), ("mad", "MAD", 4), ("conn", "Conn.", 2), ("grad", "Grad.", 2),
               ("sad_trimap", "Tran. SAD", 2))
    headers = {"mse_trimap": ("Tran. MSE", 4), "mad_trimap": ("Tran. MAD", 4), "sad_fg": ("FG SAD", 2),
               "sad_bg": ("BG SAD", 2)}

    @staticmethod
    def compute_image(pred, alpha, trimap):
        return aim_metrics(pred, alpha, trimap)
