"""Reproducible augmentation for training datasets: every sample draws its randomness from a
``numpy.random.Generator`` seeded with (seed, epoch, index), so a batch depends on nothing else —
not on the DataLoader's worker count, the order workers run in, or global ``random`` state.

How the epoch reaches the dataset: DataLoader workers hold copies of the dataset (for the whole
run when ``persistent_workers=True``), so an epoch set on the main process's dataset never
reaches them. The sampler therefore carries it: :class:`EpochAwareSampler` (mmengine's
``DefaultSampler``, whose ``set_epoch`` mmengine's train loop calls every epoch) yields
``(epoch, index)`` pairs instead of indices, and :class:`InfiniteEpochAwareSampler`
(``InfiniteSampler`` for iteration-based loops) yields ``(pass over the data, index)``. A plain
integer index uses the dataset's own ``epoch`` (:meth:`AimTrainDataset.set_epoch`, default 0),
which suits hand-written loops that build their workers after setting it.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset, DefaultSampler, InfiniteSampler

from matbench.api import DATA_SAMPLERS, TRANSFORMS, build, MatbenchError

import matbench_aim.transforms  # noqa: F401  (registers the training transforms)


def sample_generator(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of sample `index` in `epoch` for `seed`."""
    return np.random.default_rng([int(seed), int(epoch), int(index)])


def _non_negative_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise MatbenchError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


class AimTrainDataset(BaseDataset):
    """Base of the AIM training datasets: ``dataset[i]`` or ``dataset[(epoch, i)]`` runs the
    pipeline on data info ``i`` with ``results["rng"]`` = :func:`sample_generator` (seed, epoch, i).

    Args:
        seed: the augmentation seed (non-negative int); runs with the same seed give the same samples.
        pipeline: transforms (dicts built from ``matbench.registry.TRANSFORMS``, or callables).
        **kwargs: passed to mmengine's ``BaseDataset`` (``lazy_init``, ``serialize_data``, ``indices``...).
    """

    #: the pipeline used when none is given (overridden by each dataset)
    DEFAULT_PIPELINE: tuple = ()

    def __init__(self, seed: int = 0, pipeline: Optional[Sequence[Union[dict, Callable]]] = None,
                 **kwargs: Any) -> None:
        self.seed = _non_negative_int(seed, f"{type(self).__name__}: seed")
        self.epoch = 0
        if pipeline is None:
            pipeline = [dict(t) for t in self.DEFAULT_PIPELINE]
        # built with matbench's registry, so no mmengine default scope is needed
        built = [build(TRANSFORMS, dict(t)) if isinstance(t, dict) else t for t in pipeline]
        kwargs.setdefault("ann_file", "")
        kwargs["test_mode"] = False
        super().__init__(pipeline=built, **kwargs)

    def set_epoch(self, epoch: int) -> None:
        """The epoch used for plain integer indices (see the module docstring for workers)."""
        self.epoch = _non_negative_int(epoch, "epoch")

    def _split(self, idx: Any) -> tuple[int, int]:
        if isinstance(idx, (tuple, list)) and len(idx) == 2:
            epoch, index = idx
        else:
            epoch, index = self.epoch, idx
        if isinstance(index, torch.Tensor):
            index = index.item()
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"{type(self).__name__} indices are ints or (epoch, index) pairs, got {idx!r}")
        n = len(self)
        index = int(index) + n if int(index) < 0 else int(index)
        if not 0 <= index < n:
            raise IndexError(f"{type(self).__name__}: index {idx!r} out of range for {n} samples")
        return _non_negative_int(epoch, "epoch"), index

    def prepare_sample(self, results: dict, epoch: int, index: int) -> dict:
        """Add what depends on the epoch to a data info before the pipeline (default: nothing)."""
        return results

    def __getitem__(self, idx: Any) -> dict:
        if not self._fully_initialized:
            self.full_init()
        epoch, index = self._split(idx)
        results = self.get_data_info(index)
        results.update(rng=sample_generator(self.seed, epoch, index), epoch=epoch, index=index)
        results = self.pipeline(self.prepare_sample(results, epoch, index))
        if results is None:
            raise MatbenchError(f"{type(self).__name__}: the pipeline dropped sample {index}; training "
                                "transforms must not return None")
        results.pop("rng", None)
        return results


@DATA_SAMPLERS.register_module()
class EpochAwareSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (same order, same arguments) yielding ``(epoch, index)``
    pairs, so the epoch reaches :class:`AimTrainDataset` inside every worker."""

    def __iter__(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        epoch = self.epoch
        return ((epoch, int(i)) for i in super().__iter__())


@DATA_SAMPLERS.register_module()
class InfiniteEpochAwareSampler(InfiniteSampler):
    """mmengine's ``InfiniteSampler`` (same order) yielding ``(pass, index)`` pairs, where the
    pass counts complete rounds over the dataset — the epoch of an iteration-based loop."""

    def _infinite_indices(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        g = torch.Generator()
        g.manual_seed(self.seed)
        rounds = 0
        while True:
            order = torch.randperm(self.size, generator=g) if self.shuffle else torch.arange(self.size)
            yield from ((rounds, int(i)) for i in order.tolist())
            rounds += 1
