"""Trimaps for test sets that ship none: made from the true alpha by a named, parameterised rule,
deterministic, cached beside the results and recorded in them so nobody mistakes them for
official trimaps.

A dataset declares its rule in ``METAINFO["trimap_rule"]``, e.g.
``dict(type="dilate_erode", kernel_size=10)``; :data:`TRIMAP_RULES` holds the rules.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from .errors import MatbenchError

RULE_FILE = "rule.json"
NOTE = "generated from the true alpha by matbench; not official trimaps"


def dilate_erode(alpha8: np.ndarray, kernel_size: int) -> np.ndarray:
    """Known foreground: alpha = 255 eroded by an elliptic ``kernel_size`` kernel; known
    background: outside alpha > 0 dilated by it; unknown (128) in between — the rule of the
    official codes' ``gen_trimap_with_dilate``."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel_size, kernel_size))
    fg_or_unknown = cv2.dilate((alpha8 != 0).astype(np.uint8), kernel, iterations=1)
    fg = cv2.erode((alpha8 == 255).astype(np.uint8), kernel, iterations=1)
    trimap = np.zeros(alpha8.shape, np.uint8)
    trimap[fg_or_unknown == 1] = 128
    trimap[fg == 1] = 255
    return trimap


TRIMAP_RULES: dict[str, Callable[..., np.ndarray]] = {"dilate_erode": dilate_erode}


def make_rule(rule: Mapping) -> Callable[[np.ndarray], np.ndarray]:
    """The trimap function of a rule dict ``{"type": name, **parameters}``."""
    params = {k: v for k, v in rule.items() if k != "type"}
    if rule.get("type") not in TRIMAP_RULES:
        raise MatbenchError(f"unknown trimap rule {rule.get('type')!r} (known: {', '.join(TRIMAP_RULES)})")
    function = TRIMAP_RULES[rule["type"]]
    return lambda alpha8: function(alpha8, **params)


def generated_trimaps(alphas: Mapping[str, str], rule: Mapping, cache: str | os.PathLike) -> dict[str, str]:
    """``{name: trimap path}`` for every ``{name: alpha path}``, made by ``rule`` into a folder of
    ``cache`` named after the rule; a trimap already there is reused only when it and its alpha
    have the contents recorded when it was made (:class:`matbench.derived.DerivedFiles`)."""
    from .derived import DerivedFiles
    from .evaluation.journal import digest, write_json_atomic
    from .io import read_alpha8

    rule = dict(rule)
    folder = Path(cache) / f"{rule.get('type')}-{digest(rule)[:8]}"
    make = make_rule(rule)
    files = DerivedFiles(folder, {"trimap_rule": rule})
    paths = {name: str(files.get(name, alpha_path, lambda p: make(read_alpha8(p))))
             for name, alpha_path in alphas.items()}
    files.save()
    if not (folder / RULE_FILE).is_file():
        write_json_atomic(folder / RULE_FILE, {"rule": rule, "note": NOTE})
    return paths
