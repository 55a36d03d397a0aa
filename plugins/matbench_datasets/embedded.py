"""The embedded default dataset: 14 small synthetic composites in AIM-500's layout.

Nothing is downloaded or committed: the images are drawn from seeded NumPy generators on first
use into a cache folder (``$MATBENCH_CACHE/embedded-v1``, default ``~/.cache/matbench/embedded-v1``)
and then read through the AIM-500 loader. Each image is an exact composite
``I = alpha * F + (1 - alpha) * B`` of a foreground layer over a background, where ``alpha`` is
the stored 8-bit ground truth (``mask/<name>.png`` / 255); only the JPEG encoding of
``original/<name>.jpg`` (quality 95, no chroma subsampling) departs from the formula.

Shapes are rendered 4x supersampled and box-filtered, so their edges are anti-aliased like a
photograph's. The set covers AIM-500's three types — SO (opaque objects with soft edges), STM
(hair, fur, grass, glass) and NS (scattered leaves and berries, smoke) — and its seven categories,
two images each, on gradient, texture, noise and stripe backgrounds. Trimaps are made as the
official ``gen_trimap_with_dilate`` does (elliptic dilate/erode of the alpha; 0/128/255 only,
every one with known foreground and background); ``usr/`` holds the unified semantic
representation (30x30 kernel; STM: >128 -> 128; NS: all 128) for training configs.

Generation is atomic (built in a temporary folder, then renamed) and checked by a stamp file
listing every file with its size; bump :data:`VERSION` whenever the output changes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

from matbench.api import DATASETS, MatbenchError, cache_dir, dilate_erode
from .aim500 import AIM500

VERSION = 1
DIRNAME = f"embedded-v{VERSION}"
STAMP = ".matbench-embedded.json"
SS = 4  # supersampling factor of the shape renderer
USR_KERNEL = 30


def default_root() -> Path:
    """Where the embedded dataset lives unless told otherwise: in matbench's cache folder."""
    base = cache_dir()
    if base is None:
        raise MatbenchError("no home folder for the embedded dataset: set MATBENCH_CACHE to a writable folder")
    return base / DIRNAME


# ----------------------------------------------------------------------------------------------
# Drawing helpers. Images are float64 in [0, 255]; alphas float64 in [0, 1].

def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(x, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    """Gaussian-smoothed noise rescaled to [0, 1]."""
    n = _blur(rng.standard_normal((h, w)), sigma)
    return (n - n.min()) / max(n.max() - n.min(), 1e-12)


def _colour(rng: np.random.Generator, lo: float = 30, hi: float = 225) -> np.ndarray:
    return rng.uniform(lo, hi, size=3)


class Canvas:
    """A binary drawing surface SS times finer than the image; :meth:`coverage` box-filters it."""

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.hr = np.zeros((h * SS, w * SS), np.uint8)

    def _pts(self, xy: np.ndarray) -> np.ndarray:
        return np.round(np.asarray(xy, np.float64) * SS).astype(np.int32).reshape(-1, 1, 2)

    def polygon(self, xy: np.ndarray) -> "Canvas":
        import cv2

        cv2.fillPoly(self.hr, [self._pts(xy)], 1, lineType=cv2.LINE_8)
        return self

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, angle: float = 0.0) -> "Canvas":
        t = np.linspace(0, 2 * np.pi, 180, endpoint=False)
        c, s = np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))
        x, y = rx * np.cos(t), ry * np.sin(t)
        return self.polygon(np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1))

    def polyline(self, xy: np.ndarray, width: float) -> "Canvas":
        import cv2

        cv2.polylines(self.hr, [self._pts(xy)], False, 1, thickness=max(1, int(round(width * SS))),
                      lineType=cv2.LINE_8)
        return self

    def erase(self, other: "Canvas") -> "Canvas":
        self.hr[other.hr > 0] = 0
        return self

    def coverage(self) -> np.ndarray:
        return self.hr.reshape(self.h, SS, self.w, SS).mean(axis=(1, 3), dtype=np.float64)


def _curve(rng: np.random.Generator, x0: float, y0: float, angle: float, length: float,
           bend: float, steps: int = 12) -> np.ndarray:
    """A random smooth path (a strand of hair, a blade of grass) starting at (x0, y0)."""
    turn = np.cumsum(rng.normal(0, bend, steps))
    ang = angle + turn
    seg = length / steps
    xs = x0 + np.concatenate([[0], np.cumsum(seg * np.cos(ang))])
    ys = y0 + np.concatenate([[0], np.cumsum(seg * np.sin(ang))])
    return np.stack([xs, ys], axis=1)


def _tapered(path: np.ndarray, width: float) -> np.ndarray:
    """Polygon of a strip along `path` whose width shrinks linearly to a point at its end."""
    d = np.gradient(path, axis=0)
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)
    half = (width / 2) * np.linspace(1, 0, len(path))[:, None]
    return np.concatenate([path + n * half, (path - n * half)[::-1]])


def _shaded(rng: np.random.Generator, h: int, w: int, base: np.ndarray, amount: float = 40,
            grain: float = 8) -> np.ndarray:
    """A foreground colour field: `base` with a soft light gradient and fine grain."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    a = rng.uniform(0, 2 * np.pi)
    light = (np.cos(a) * xx + np.sin(a) * yy)
    light = (light - light.mean()) / max(np.ptp(light), 1e-9)
    f = base[None, None, :] + amount * light[:, :, None] + grain * (_smooth_noise(rng, h, w, 1.0) - 0.5)[:, :, None]
    return np.clip(f, 0, 255)


class Layers:
    """Foreground layers composited front-to-back with premultiplied colour (exact "over")."""

    def __init__(self, h: int, w: int) -> None:
        self.alpha = np.zeros((h, w))
        self.premul = np.zeros((h, w, 3))

    def under(self, alpha: np.ndarray, colour: np.ndarray) -> "Layers":
        """Put a layer behind everything added so far."""
        a = np.clip(alpha, 0, 1)
        self.premul += ((1 - self.alpha) * a)[:, :, None] * colour
        self.alpha += (1 - self.alpha) * a
        return self

    def over(self, alpha: np.ndarray, colour: np.ndarray) -> "Layers":
        """Put a layer in front of everything added so far."""
        a = np.clip(alpha, 0, 1)
        self.premul = a[:, :, None] * colour + (1 - a)[:, :, None] * self.premul
        self.alpha = a + (1 - a) * self.alpha
        return self

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        fg = self.premul / np.maximum(self.alpha, 1e-12)[:, :, None]
        return self.alpha, np.clip(fg, 0, 255)


# ----------------------------------------------------------------------------------------------
# Backgrounds

def bg_gradient(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    c0, c1 = _colour(rng), _colour(rng)
    yy, xx = np.mgrid[0:h, 0:w]
    a = rng.uniform(0, 2 * np.pi)
    t = np.cos(a) * xx / w + np.sin(a) * yy / h
    t = (t - t.min()) / max(np.ptp(t), 1e-9)
    return c0 + (c1 - c0) * t[:, :, None] + rng.normal(0, 1.5, (h, w, 3))


def bg_texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = _colour(rng, 50, 200)
    tex = np.stack([_smooth_noise(rng, h, w, rng.uniform(2.5, 6)) for _ in range(3)], axis=2)
    return base + 90 * (tex - 0.5)


def bg_noise(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return _colour(rng, 70, 190) + rng.normal(0, 12, (h, w, 3))


def bg_stripes(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    c0, c1 = _colour(rng), _colour(rng)
    yy, xx = np.mgrid[0:h, 0:w]
    a = rng.uniform(0, np.pi)
    period = rng.uniform(12, 28)
    s = 0.5 + 0.5 * np.tanh(3 * np.sin(2 * np.pi * (np.cos(a) * xx + np.sin(a) * yy) / period))
    return c0 + (c1 - c0) * s[:, :, None]


BACKGROUNDS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "gradient": bg_gradient, "texture": bg_texture, "noise": bg_noise, "stripes": bg_stripes}


# ----------------------------------------------------------------------------------------------
# Foregrounds: each returns (alpha, F) for an h x w image.

def fg_apple(rng, h, w):  # SO
    cx, cy, r = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.5, 0.6), min(h, w) * 0.3
    body = Canvas(h, w).ellipse(cx - r * 0.3, cy, r * 0.75, r * 0.85).ellipse(cx + r * 0.3, cy, r * 0.75, r * 0.85)
    stem = Canvas(h, w).polyline(_curve(rng, cx, cy - r * 0.7, -np.pi / 2 - 0.2, r * 0.45, 0.05), 2.5)
    leaf = Canvas(h, w).ellipse(cx + r * 0.3, cy - r * 0.95, r * 0.3, r * 0.12, -25)
    return (Layers(h, w).over(body.coverage(), _shaded(rng, h, w, np.array([190, 30, 35]), 60))
            .over(stem.coverage(), np.array([90, 60, 30]))
            .over(leaf.coverage(), _shaded(rng, h, w, np.array([60, 150, 50]))).result())


def fg_berries(rng, h, w):  # NS: many small fruits scattered over the whole frame
    layers = Layers(h, w)
    for _ in range(int(rng.integers(28, 40))):
        r = rng.uniform(5, 10)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        c = Canvas(h, w).ellipse(cx, cy, r, r * rng.uniform(0.85, 1.0), rng.uniform(0, 180))
        layers.over(c.coverage(), _shaded(rng, h, w, np.array([rng.uniform(60, 110), 30, rng.uniform(90, 150)]), 50))
    return layers.result()


def fg_star(rng, h, w):  # SO
    cx, cy, r = w / 2, h / 2, min(h, w) * 0.42
    t = np.linspace(0, 2 * np.pi, 10, endpoint=False) + rng.uniform(0, 1)
    rad = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
    star = Canvas(h, w).polygon(np.stack([cx + rad * np.cos(t), cy + rad * np.sin(t)], axis=1))
    return Layers(h, w).over(star.coverage(), _shaded(rng, h, w, np.array([235, 200, 40]), 50)).result()


def fg_ring(rng, h, w):  # SO with a hole
    cx, cy, r = w * 0.5, h * 0.5, min(h, w) * 0.38
    outer = Canvas(h, w).ellipse(cx, cy, r, r * 0.9, rng.uniform(0, 90))
    outer.erase(Canvas(h, w).ellipse(cx, cy, r * 0.45, r * 0.4, rng.uniform(0, 90)))
    return Layers(h, w).over(outer.coverage(), _shaded(rng, h, w, np.array([40, 170, 90]), 60)).result()


def fg_chair(rng, h, w):  # SO with thin legs
    c = Canvas(h, w)
    x0, x1, seat = w * 0.3, w * 0.7, h * 0.55
    c.polygon(np.array([[x0, h * 0.12], [x0 + w * 0.08, h * 0.12], [x0 + w * 0.08, seat], [x0, seat]]))
    c.polygon(np.array([[x0, seat], [x1, seat - h * 0.02], [x1, seat + h * 0.06], [x0, seat + h * 0.07]]))
    for x in (x0 + 3, x1 - 5, x0 + w * 0.1, x1 - w * 0.08):
        c.polyline(np.array([[x, seat + h * 0.05], [x + rng.uniform(-3, 3), h * 0.92]]), rng.uniform(2, 4))
    return Layers(h, w).over(c.coverage(), _shaded(rng, h, w, np.array([120, 75, 40]), 40, 14)).result()


def fg_lamp(rng, h, w):  # SO: shade, thin stem, base
    cx = w * rng.uniform(0.42, 0.58)
    shade = Canvas(h, w).polygon(np.array([[cx - w * 0.12, h * 0.1], [cx + w * 0.12, h * 0.1],
                                           [cx + w * 0.24, h * 0.42], [cx - w * 0.24, h * 0.42]]))
    stem = Canvas(h, w).polyline(np.array([[cx, h * 0.42], [cx + 1.3, h * 0.82]]), 1.6)
    base = Canvas(h, w).ellipse(cx, h * 0.85, w * 0.14, h * 0.045)
    return (Layers(h, w).over(stem.coverage(), np.array([60, 60, 65])).over(base.coverage(), np.array([50, 50, 55]))
            .over(shade.coverage(), _shaded(rng, h, w, np.array([230, 215, 170]), 30)).result())


def fg_furball(rng, h, w):  # STM: fur strands around a body
    cx, cy, r = w * 0.5, h * 0.52, min(h, w) * 0.26
    body = Canvas(h, w).ellipse(cx, cy, r * 1.15, r)
    fur = Canvas(h, w)
    for a in rng.uniform(0, 2 * np.pi, 420):
        x0, y0 = cx + 0.95 * r * 1.15 * np.cos(a), cy + 0.95 * r * np.sin(a)
        fur.polyline(_curve(rng, x0, y0, a + rng.normal(0, 0.35), rng.uniform(0.25, 0.55) * r, 0.12, 6),
                     rng.uniform(0.3, 0.8))
    colour = _shaded(rng, h, w, np.array([200, 120, 50]), 50, 30)
    return Layers(h, w).over(body.coverage(), colour).over(fur.coverage(), colour * 0.9 + 15).result()


def fg_cat(rng, h, w):  # SO: a silhouette
    c = Canvas(h, w)
    cx, cy = w * 0.5, h * 0.62
    c.ellipse(cx, cy, w * 0.26, h * 0.2)
    hx, hy, hr = cx - w * 0.2, cy - h * 0.24, min(h, w) * 0.13
    c.ellipse(hx, hy, hr, hr * 0.9)
    for side in (-1, 1):  # ears
        c.polygon(np.array([[hx + side * hr * 0.9, hy - hr * 0.2], [hx + side * hr * 0.7, hy - hr * 1.6],
                            [hx + side * hr * 0.1, hy - hr * 0.8]]))
    c.polyline(_curve(rng, cx + w * 0.24, cy, -0.6, h * 0.35, 0.12, 10), 5)
    return Layers(h, w).over(c.coverage(), _shaded(rng, h, w, np.array([110, 110, 120]), 50, 18)).result()


def _head_and_shoulders(rng, h, w) -> tuple[Canvas, Canvas, float, float, float]:
    cx, cy, r = w * rng.uniform(0.45, 0.55), h * 0.42, min(h, w) * 0.2
    head = Canvas(h, w).ellipse(cx, cy, r * 0.8, r)
    body = Canvas(h, w).ellipse(cx, h * 1.02, w * 0.38, h * 0.3)
    body.polygon(np.array([[cx - r * 0.3, cy + r * 0.6], [cx + r * 0.3, cy + r * 0.6],
                           [cx + r * 0.35, h * 0.8], [cx - r * 0.35, h * 0.8]]))
    return head, body, cx, cy, r


def fg_portrait_hair(rng, h, w):  # STM: flyaway hair
    head, body, cx, cy, r = _head_and_shoulders(rng, h, w)
    cap = Canvas(h, w).ellipse(cx, cy - r * 0.25, r * 0.92, r * 0.85)
    strands = Canvas(h, w)
    for _ in range(260):
        a = rng.uniform(-np.pi * 0.95, -np.pi * 0.05)  # upper half of the head
        x0, y0 = cx + r * 0.85 * np.cos(a), cy - r * 0.25 + r * 0.8 * np.sin(a)
        strands.polyline(_curve(rng, x0, y0, a + rng.normal(0, 0.5), rng.uniform(0.3, 0.9) * r, 0.18, 10),
                         rng.uniform(0.25, 0.6))
    hair = _shaded(rng, h, w, np.array([70, 45, 30]), 30, 25)
    return (Layers(h, w).over(body.coverage(), _shaded(rng, h, w, _colour(rng, 40, 200), 40))
            .over(head.coverage(), _shaded(rng, h, w, np.array([225, 180, 150]), 30))
            .over(cap.coverage(), hair).over(strands.coverage(), hair).result())


def fg_portrait_solid(rng, h, w):  # SO
    head, body, cx, cy, r = _head_and_shoulders(rng, h, w)
    cap = Canvas(h, w).ellipse(cx, cy - r * 0.3, r * 0.85, r * 0.75)
    return (Layers(h, w).over(body.coverage(), _shaded(rng, h, w, _colour(rng, 40, 200), 40))
            .over(head.coverage(), _shaded(rng, h, w, np.array([200, 150, 120]), 30))
            .over(cap.coverage(), _shaded(rng, h, w, np.array([30, 25, 20]), 20)).result())


def fg_glass(rng, h, w):  # STM: a wine glass, mostly see-through
    import cv2

    cx = w * rng.uniform(0.45, 0.55)
    bw, top, bot = w * 0.2, h * 0.08, h * 0.5
    t = np.linspace(0, np.pi, 60)  # a half ellipse hanging from the rim
    bowl_xy = np.stack([cx - bw * np.cos(t), top + (bot - top) * np.sin(t)], axis=1)
    bowl = Canvas(h, w).polygon(bowl_xy)
    stem = Canvas(h, w).polyline(np.array([[cx, bot], [cx, h * 0.86]]), 3.0)
    foot = Canvas(h, w).ellipse(cx, h * 0.88, w * 0.17, h * 0.05)  # a solid base: some known foreground
    cov = bowl.coverage()
    inside = (cov > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    yy, xx = np.mgrid[0:h, 0:w]
    transmit = 0.22 + 0.18 * (yy - top) / (bot - top) + 0.5 * np.exp(-((xx - (cx - bw * 0.5)) / (bw * 0.12)) ** 2)
    bowl_alpha = cov * np.clip(np.where(dist < 2.5, 0.85, transmit), 0, 1)
    tint = _shaded(rng, h, w, np.array([200, 225, 235]), 30, 6)
    return (Layers(h, w).over(foot.coverage(), tint * 0.8).over(stem.coverage() * 0.75, tint)
            .over(bowl_alpha, tint).result())


def fg_smoke(rng, h, w):  # NS: a cloud of smoke, semi-transparent nearly everywhere it is
    yy, xx = np.mgrid[0:h, 0:w]
    n = 0.5 * _smooth_noise(rng, h, w, 12) + 0.3 * _smooth_noise(rng, h, w, 5) + 0.2 * _smooth_noise(rng, h, w, 2)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    env = np.exp(-(((xx - cx) / (w * 0.3)) ** 2 + ((yy - cy) / (h * 0.3)) ** 2))
    alpha = np.clip((n * env - 0.12) / 0.4, 0, 1)
    return alpha, _shaded(rng, h, w, np.array([225, 225, 230]), 25, 10)


def fg_leaves(rng, h, w):  # NS: leaves scattered over the frame
    layers = Layers(h, w)
    for _ in range(int(rng.integers(26, 36))):
        cx, cy, L = rng.uniform(-5, w + 5), rng.uniform(-5, h + 5), rng.uniform(10, 18)
        a = rng.uniform(0, 2 * np.pi)
        t = np.linspace(-1, 1, 40)
        half = L * 0.38 * np.sqrt(1 - t ** 2)
        u = np.concatenate([t * L, t[::-1] * L])
        v = np.concatenate([half, -half[::-1]])
        xy = np.stack([cx + u * np.cos(a) - v * np.sin(a), cy + u * np.sin(a) + v * np.cos(a)], axis=1)
        leaf = Canvas(h, w).polygon(xy)
        green = np.array([rng.uniform(40, 110), rng.uniform(110, 180), rng.uniform(30, 70)])
        layers.over(leaf.coverage(), _shaded(rng, h, w, green, 40))
    return layers.result()


def fg_grass(rng, h, w):  # STM: blades with thin tips
    c = Canvas(h, w)
    c.polygon(np.array([[0, h * 0.9], [w, h * 0.9], [w, h], [0, h]]))
    for _ in range(110):
        x0 = rng.uniform(0, w)
        path = _curve(rng, x0, h * 0.95, -np.pi / 2 + rng.normal(0, 0.25), rng.uniform(0.3, 0.75) * h, 0.06, 14)
        c.polygon(_tapered(path, rng.uniform(1.5, 4)))
    return Layers(h, w).over(c.coverage(), _shaded(rng, h, w, np.array([70, 150, 50]), 60, 20)).result()


#: (name, type, category, foreground, background, (h, w), trimap kernel) — two per category.
SPECS: list[tuple[str, str, str, Callable, str, tuple[int, int], int]] = [
    ("animal_1", "STM", "animal", fg_furball, "gradient", (200, 240), 9),
    ("animal_2", "SO", "animal", fg_cat, "stripes", (192, 256), 7),
    ("fruit_1", "SO", "fruit", fg_apple, "gradient", (176, 224), 7),
    ("fruit_2", "NS", "fruit", fg_berries, "texture", (160, 200), 5),
    ("furniture_1", "SO", "furniture", fg_chair, "texture", (224, 192), 7),
    ("furniture_2", "SO", "furniture", fg_lamp, "noise", (240, 200), 7),
    ("plant_1", "NS", "plant", fg_leaves, "gradient", (176, 240), 5),
    ("plant_2", "STM", "plant", fg_grass, "gradient", (192, 256), 9),
    ("portrait_1", "STM", "portrait", fg_portrait_hair, "texture", (240, 208), 9),
    ("portrait_2", "SO", "portrait", fg_portrait_solid, "noise", (224, 192), 7),
    ("toy_1", "SO", "toy", fg_star, "stripes", (192, 192), 7),
    ("toy_2", "SO", "toy", fg_ring, "gradient", (176, 224), 7),
    ("transparent_1", "STM", "transparent", fg_glass, "stripes", (240, 192), 9),
    ("transparent_2", "NS", "transparent", fg_smoke, "texture", (200, 240), 7),
]


def gen_usr(alpha8: np.ndarray, kind: str) -> np.ndarray:
    """The unified semantic representation of ``core/process_data.py``."""
    usr = dilate_erode(alpha8, USR_KERNEL)
    if kind == "STM":
        usr[usr > 128] = 128
    elif kind == "NS":
        usr[:] = 128
    return usr


def render(index: int) -> dict[str, Any]:
    """Image ``index`` of :data:`SPECS`: name, type, category, image (uint8), alpha8, trimap, usr."""
    name, kind, category, fg_fn, bg_name, (h, w), kernel = SPECS[index]
    rng = np.random.default_rng([20240607, VERSION, index])
    alpha, fg = fg_fn(rng, h, w)
    alpha8 = np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)
    a = alpha8.astype(np.float64)[:, :, None] / 255.0  # composite with the stored ground truth
    bg = np.clip(BACKGROUNDS[bg_name](rng, h, w), 0, 255)
    image = np.round(np.clip(a * fg + (1 - a) * bg, 0, 255)).astype(np.uint8)
    trimap = dilate_erode(alpha8, kernel)
    if not ((trimap == 0).any() and (trimap == 255).any()):  # pragma: no cover - a bug in SPECS
        raise AssertionError(f"embedded image {name}: trimap lacks known foreground or background")
    return {"name": name, "type": kind, "category": category, "image": image, "alpha8": alpha8,
            "trimap": trimap, "usr": gen_usr(alpha8, kind)}


def _write_all(folder: Path) -> dict[str, int]:
    from PIL import Image

    for sub in ("original", "mask", "trimap", "usr"):
        (folder / sub).mkdir(parents=True)
    labels = {}
    for i in range(len(SPECS)):
        s = render(i)
        Image.fromarray(s["image"]).save(folder / "original" / f"{s['name']}.jpg", quality=95, subsampling=0)
        Image.fromarray(s["alpha8"]).save(folder / "mask" / f"{s['name']}.png")
        Image.fromarray(s["trimap"]).save(folder / "trimap" / f"{s['name']}.png")
        Image.fromarray(s["usr"]).save(folder / "usr" / f"{s['name']}.png")
        labels[s["name"]] = {"type": s["type"], "category": s["category"]}
    (folder / "aim_category_type.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n")
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def _stamp_ok(root: Path) -> bool:
    """Whether `root` holds a complete embedded dataset of this :data:`VERSION`."""
    try:
        stamp = json.loads((root / STAMP).read_text())
        return stamp.get("version") == VERSION and all(
            (root / rel).stat().st_size == size for rel, size in stamp["files"].items())
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return False


def ensure_embedded(root: Optional[Union[str, os.PathLike]] = None) -> Path:
    """The embedded dataset's folder, generated first if absent or stale (see :func:`default_root`).

    An existing folder is replaced only if it is empty or was made by this function (it holds a
    stamp file); anything else is left alone and reported.
    """
    root = Path(root) if root else default_root()
    if _stamp_ok(root):
        return root
    if root.exists() and not (root / STAMP).exists() and (not root.is_dir() or any(root.iterdir())):
        raise MatbenchError(f"{root}: exists but is not a matbench embedded dataset; remove it or "
                            "choose another folder for the embedded data")
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    except OSError as exc:
        raise MatbenchError(f"{root}: cannot create the embedded dataset here ({exc.strerror or exc}); "
                            "set MATBENCH_CACHE to a writable folder") from None
    try:
        files = _write_all(tmp)
        (tmp / STAMP).write_text(json.dumps({"version": VERSION, "files": files}, indent=1) + "\n")
        if root.exists():  # empty, or ours and stale/incomplete: replace it
            if _stamp_ok(root):  # another process finished first
                return root
            if root.is_dir():
                shutil.rmtree(root)
            else:
                root.unlink()
        try:
            os.replace(tmp, root)
        except OSError:
            if not _stamp_ok(root):  # lost a race to a complete copy? otherwise a real failure
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def digest(root: Union[str, os.PathLike]) -> str:
    """SHA-256 over every file's relative path and bytes (the stamp excluded)."""
    root = Path(root)
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != STAMP:
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@DATASETS.register_module(name="embedded")
class EmbeddedDataset(AIM500):
    """The embedded synthetic dataset (AIM-500 layout), generated on first use into
    ``data_root`` (default: :func:`default_root`)."""

    METAINFO: dict = {**AIM500.METAINFO, "name": "embedded", "title": f"matbench embedded v{VERSION}",
                      "paper": "synthetic composites made by matbench (AIM-500 layout and groups)"}

    def __init__(self, data_root: Optional[Union[str, os.PathLike]] = None, **kwargs: Any) -> None:
        super().__init__(str(ensure_embedded(data_root)), **kwargs)
