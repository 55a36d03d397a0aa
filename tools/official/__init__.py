"""The official AIM code (github.com/JizhiziLi/AIM, ``core/``), run unchanged on today's libraries
for golden values, parity checks and side-by-side benchmarks. Not part of matbench.

Set ``AIM_REF=/path/to/AIM``: a checkout of the official repository (the folder holding
``core/evaluate.py``). The official files are read from there, never written to, and kept out
of ``sys.modules`` (``loader``); what a modern environment lacks is stood in for
(``stand_ins``); every change to them is in memory and scoped (``patches``).

    official_metrics(pred, alpha, trimap)   the ten values of test.py's test_aim500 loop
    read_gray(path)                         a PNG as test.py reads masks and trimaps
    build_aimnet(seed, condition)           the official network, seeded random weights
    predict(model, image, choice)           test.py inference_img, scikit-image 0.14.5 resizing
    sk014_resize(image, shape)              that resize
    module(name)                            any official module ('data', 'util', ...)
"""
from .aimnet import build_aimnet, condition_for_parity, predict, save_checkpoint
from .loader import AIM, OfficialCodeError, OfficialRepo, core_dir, module
from .metrics import METRIC_KEYS, official_metrics, read_gray
from .patches import cuda_as_noop, patched
from .resize import sk014_resize

__all__ = ["AIM", "METRIC_KEYS", "OfficialCodeError", "OfficialRepo", "build_aimnet", "condition_for_parity", "core_dir", "cuda_as_noop",
           "module", "official_metrics", "patched", "predict", "read_gray", "save_checkpoint", "sk014_resize"]
