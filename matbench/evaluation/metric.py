"""`ImageMetric`: the per-image matting metric functions of one variant, gathered over a dataset.

It has the interface of mmengine's ``BaseMetric`` (``process``, ``evaluate``, ``results``,
``dataset_meta``), so mmengine's ``Evaluator`` runs it inside a Runner, without deriving from it:
importing ``mmengine.evaluator`` imports torch, which scoring a folder of predictions never needs."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..dist import all_gather_object, broadcast_object, get_rank
from ..errors import MatbenchError
from .summary import summarize

if TYPE_CHECKING:
    from .workers import Pending, WorkerPool


#: a row's (or a sample's: JSON text) content stamps of the files read for it, by role, taken by
#: the process that read them just before reading (:mod:`matbench.content`); the journal records them
READ_FILES_KEY = "_read_files"
#: a sample's request for the report's pictures of its image (:mod:`matbench.report.gallery`)
PICTURES_KEY = "_report_pictures"


def _load(sample: dict, read: dict[str, list]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prediction, alpha and trimap of a sample: the arrays it carries or read from its paths
    (each file read is stamped into ``read`` first, its content hashed)."""
    from ..content import file_stamp
    from ..io import check_sizes, image_size, read_alpha, read_prediction, read_trimap

    alpha_where, trimap_where = sample.get("alpha_path", "alpha"), sample.get("trimap_path", "trimap")
    pred_where = sample.get("image_path", sample["name"]) if "pred_alpha" in sample else sample["pred_path"]
    # sizes from the arrays or the files' headers, before decoding: a small PNG may declare a huge size
    check_sizes({where: np.shape(sample[key])[:2] if key in sample else image_size(where)
                 for key, where in (("alpha", alpha_where), ("trimap", trimap_where), ("pred_alpha", pred_where))})
    for role, key, where in (("alpha", "alpha", alpha_where), ("trimap", "trimap", trimap_where),
                             ("prediction", "pred_alpha", pred_where)):
        if key not in sample:
            read[role] = file_stamp(where, with_hash=True)
    alpha = sample["alpha"] if "alpha" in sample else read_alpha(alpha_where)
    trimap = sample["trimap"] if "trimap" in sample else read_trimap(trimap_where)
    pred = sample["pred_alpha"] if "pred_alpha" in sample else read_prediction(pred_where)
    return pred, alpha, trimap


def score(metric_cls: type, sample: dict, group_keys: Sequence[str] = ()) -> dict[str, Any]:
    """One per-image row (with the sample's value of each group, and the content stamps of the
    files read for it); runs in a worker process when the metric has a pool."""
    from ..content import file_stamp

    loaded = sample.get(READ_FILES_KEY) or {}
    read = dict(json.loads(loaded) if isinstance(loaded, str) else loaded)
    pred, alpha, trimap = _load(sample, read)
    extras = {role: sample[f"{role}_path"] for role in metric_cls.extra_inputs}
    for role, path in extras.items():
        read[role] = file_stamp(path, with_hash=True)
    values = check_values(metric_cls, metric_cls.compute_image(pred, alpha, trimap, **extras), sample)
    if sample.get(PICTURES_KEY):           # made here from the arrays in hand, not decoded again later
        from ..report.gallery import pictures_in_worker

        pictures_in_worker(sample, pred, alpha, trimap, read)
    return {"name": sample["name"], **{k: sample[k] for k in group_keys},
            "unknown_pixels": int(np.count_nonzero(trimap == 128)), **values, READ_FILES_KEY: read}


def check_values(metric_cls: type, values: Any, sample: dict) -> dict[str, float | None]:
    """A metric plugin's values for one image: a dict of its declared keys, each a finite number
    or None; anything else is a one-line error naming the image, the variant and the key (before
    anything is journalled)."""
    import math

    from ..errors import InputError

    where = sample.get("pred_path") or sample.get("image_path") or sample["name"]
    variant = metric_cls.variant or metric_cls.__name__
    if not isinstance(values, dict):
        raise InputError(where, f"metric variant '{variant}' returned {type(values).__name__}, not a dict of values")
    out: dict[str, float | None] = {}
    for key, value in values.items():
        if value is None:
            out[key] = None
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InputError(where, f"metric variant '{variant}' returned {key}={value!r} "
                                    f"({type(value).__name__}); expected a number or None")
        if not math.isfinite(float(value)):
            raise InputError(where, f"metric variant '{variant}' returned {key}={float(value)} (not finite); "
                                    "return None for a value undefined on this image")
        out[key] = float(value)
    return out


def keep_freed_memory() -> None:
    """Let this process's C allocator keep the memory it frees for the next image (glibc only;
    nothing elsewhere). By default each image-sized array is a fresh ``mmap`` whose every page
    faults in again on first touch, and freed heap is handed back at once: a metric worker's
    image then costs ~12 % more CPU (``tools/bench_eval.py``: 0.050 against 0.057 s an image at
    1200x1500). The peak is unchanged; the resident memory stays at it between images."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    if not mallopt(m_mmap_threshold, 1 << 30):  # arrays up to 1 GiB from the heap, not an mmap each
        mallopt(m_mmap_threshold, 32 << 20)       # older glibc's most
    mallopt(m_trim_threshold, (1 << 31) - 1)  # keep freed heap
    mallopt(m_top_pad, 64 << 20)              # grow the heap in 64 MiB steps


def warm_up(metric_cls: type) -> None:
    """Prepare a worker process: turn on the fast PNG reader (it reads three files an image), and
    score a tiny made-up image once, so that what the first real image would pay for (numba
    loading its compiled code from the cache, lazy imports) is paid while the caller prepares."""
    from ..io import use_fast_png

    use_fast_png()
    keep_freed_memory()
    if metric_cls.extra_inputs:
        return
    ramp = np.linspace(0.0, 1.0, 64).reshape(8, 8)
    trimap = np.select([ramp < 0.3, ramp > 0.7], [0, 255], 128).astype(np.uint8)
    noise = np.random.default_rng(0).random((2, 8, 8))        # noisy images take other code paths
    for pred, alpha in ((ramp[::-1].copy(), ramp), (noise[0], noise[1])):
        try:
            metric_cls.compute_image(pred, alpha, trimap)
        except Exception:  # noqa: BLE001 - a warm-up only; the real images report real errors
            pass


class ImageMetric:
    """Per-image metrics over a dataset; a subclass is one metric *variant* (e.g. "aim", "dim").

    Subclasses set ``variant`` and ``keys`` and implement the static :meth:`compute_image`.
    A data sample reaching :meth:`process` is a dict with ``name``, its value of each of the
    dataset's groups (e.g. ``type``, ``category``) and either arrays (``pred_alpha``, ``alpha`` float64 HxW in [0, 1]; ``trimap`` uint8 0/128/255)
    or the paths to read them from (``pred_path``, ``alpha_path``, ``trimap_path``) — paths let
    a pool of ``workers`` processes read and score images in parallel without copying arrays.
    ``on_row`` (set by the evaluation loop) sees every finished row at once, so a killed run
    keeps what it computed; ``on_done`` receives all rows and the summary on rank 0.
    """

    variant: str = ""
    keys: tuple[str, ...] = ()
    #: the variant used when neither the command line nor the dataset names one
    default: bool = False
    #: how tables name the variant, e.g. "official AIM code"
    title: str = ""
    #: the whole-image table's columns: (key, header, decimals), in order
    columns: tuple[tuple[str, str, int], ...] = ()
    #: headers and decimals of keys that are not columns (CSV and unknown layouts)
    headers: dict[str, tuple[str, int]] = {}
    #: a note under every table of this variant (how it differs from the usual convention)
    note: str = ""
    #: other files of a sample the variant reads (e.g. ``("detail",)``): ``compute_image`` receives
    #: each as a keyword argument holding the sample's ``<role>_path``
    extra_inputs: tuple[str, ...] = ()
    #: whether the values depend on the trimap (tables then say when it was generated)
    uses_trimap: bool = True
    #: keys where a higher value is better (as torchmetrics' ``higher_is_better``, per key); every
    #: other key is an error, lower is better. Comparisons and best-value marks use it.
    higher_is_better: tuple[str, ...] = ()
    default_prefix = "matting"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A variant made by subclassing another (``class AimBand(Aim)``: its values plus more)
        is never the default because its base is."""
        super().__init_subclass__(**kwargs)
        if "default" not in vars(cls):
            cls.default = False

    def __init__(self, workers: int = 0, collect_device: str = "cpu", prefix: str | None = None) -> None:
        self.workers = workers
        #: the rows of this process (mmengine's name)
        self.results: list[dict] = []
        self.prefix = prefix or self.default_prefix
        self.collect_device = collect_device
        #: set by mmengine's Evaluator; unused
        self.dataset_meta: dict | None = None
        self.on_row: Callable[[dict], None] | None = None
        self.on_done: Callable[[list[dict], dict], None] | None = None
        self.previous_rows: list[dict] = []
        #: the dataset's group definitions (:mod:`matbench.groups`), set by the evaluation loop
        self.groups: list[dict] = []
        #: where the workers make the report's pictures of each image (None: no pictures)
        self.pictures: dict | None = None
        self._pool: WorkerPool | None = None
        self._pending: list[Pending] = []

    @classmethod
    def describe(cls) -> dict:
        """What tables need to show this variant's values, stored in every results file so that
        they can be laid out, compared and re-aggregated without the plugin installed."""
        from ..plugins import package_of

        return {"variant": cls.variant, "title": cls.title, "package": package_of(cls), "keys": list(cls.keys),
                "columns": [list(c) for c in cls.columns],
                "headers": {k: list(v) for k, v in cls.headers.items()}, "note": cls.note,
                "uses_trimap": cls.uses_trimap, "higher_is_better": list(cls.higher_is_better)}

    @staticmethod
    def compute_image(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray, **extras: str) -> dict[str, float | None]:
        """The metric values of one image, keyed by ``keys`` (``extras``: see ``extra_inputs``)."""
        raise NotImplementedError

    @classmethod
    def check_dataset(cls, infos: Sequence[dict], dataset: str) -> None:
        """Refuse, before any work, a dataset whose samples lack a file this variant reads."""
        for role in cls.extra_inputs:
            if infos and f"{role}_path" not in infos[0]:
                raise MatbenchError(f"metric variant '{cls.variant}' needs the {role} files of each image; "
                                    f"dataset '{dataset}' has none")

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            # with a pool, workers re-read ground truth from its files rather than receive copies
            job = {k: v for k, v in sample.items() if k != "image" and not (
                self.workers and k in ("alpha", "trimap") and f"{k}_path" in sample)}
            if self.pictures is not None:
                job[PICTURES_KEY] = self.pictures
            if self.workers > 0:
                self._pending.append(self._get_pool().apply_async(score, (type(self), job, self.group_keys),
                                                                  what=sample.get("name", "")))
            else:
                self._finish(score(type(self), job, self.group_keys))
        self._drain(wait=False)

    @property
    def group_keys(self) -> tuple[str, ...]:
        return tuple(g["key"] for g in self.groups)

    def __enter__(self) -> "ImageMetric":
        """Start the worker processes now: they warm up (:func:`warm_up`) while the caller
        lists the dataset and reads the journal; leaving the block stops them."""
        if self.workers > 0:
            self._get_pool()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get_pool(self) -> WorkerPool:
        if self._pool is None:
            from functools import partial

            from .workers import start_pool

            self._pool = start_pool(self.workers, partial(warm_up, type(self)))
        return self._pool

    def _finish(self, row: dict) -> None:
        if self.on_row is not None:
            self.on_row(row)           # the journal takes the row's file stamps (READ_FILES_KEY)
        row.pop(READ_FILES_KEY, None)
        self.results.append(row)

    def _drain(self, wait: bool) -> None:
        if self._pool is not None and not wait:
            self._pool.poll(0)
        keep = []
        for pending in self._pending:
            if wait or pending.ready():
                self._finish(pending.get())
            else:
                keep.append(pending)
        self._pending = keep

    def close(self) -> None:
        """Stop the worker pool at once (pending work is abandoned; the journal has the rest)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        self._pending = []

    def evaluate(self, size: int) -> dict:
        """Summarise every process's rows on rank 0 (rows carry their names, so the uneven
        shares of an unpadded sampler are gathered whole, unlike mmengine's ``collect_results``)."""
        try:
            self._drain(wait=True)
        finally:
            self.close()
        rows = [row for part in all_gather_object(list(self.results)) for row in part]
        self.results.clear()
        metrics = broadcast_object(self.compute_metrics(rows) if get_rank() == 0 else None)
        return {f"{self.prefix}/{k}" if self.prefix else k: v for k, v in metrics.items()}

    def compute_metrics(self, results: list) -> dict[str, float]:
        rows = sorted(self.previous_rows + list(results), key=lambda r: r["name"])
        summary = summarize(rows, self.keys, self.groups)
        if self.on_done is not None:
            self.on_done(rows, summary)
        return {k: v for k, v in summary["metrics"].items() if v is not None}
