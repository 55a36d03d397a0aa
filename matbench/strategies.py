"""What inference strategies share: running a network on an RGB tensor, naming its outputs, and a
base class (:class:`BaseStrategy`) for strategies that pick outputs by name. Public through
:mod:`matbench.api`; the :class:`matbench.networks.Strategy` protocol is all the core requires."""
from __future__ import annotations

from fractions import Fraction
from typing import Iterable

import torch
from torch import nn

from .errors import MatbenchError


def output_names(network: nn.Module) -> tuple[str, ...]:
    """The names of the network's outputs: its ``output_names``, or ``("alpha",)`` for a network
    that returns one tensor."""
    return tuple(getattr(network, "output_names", ("alpha",)))


def run_network(network: nn.Module, image: torch.Tensor, trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """``image``: N x 3 x H x W RGB in [0, 1] (float64 from the resampling), H and W fitting the
    network. Returns its outputs by name, as float64 (they may come from an autocast region).
    ``trimap`` (N x 1 x H x W in [0, 1], for a trimap-based network) is its second argument.

    The input is rounded as the official code rounds it (``float32(x * 255) / 255``), so both
    feed the network the same numbers; outputs are widened so full-size resizing and fusion run
    in double precision, as the official NumPy code does."""
    x = (image * 255).float() / 255
    normalize = getattr(network, "normalize", None)
    x = normalize(x) if normalize is not None else x
    if next(network.parameters()).is_contiguous(memory_format=torch.channels_last):
        x = x.contiguous(memory_format=torch.channels_last)
    out = network(x) if trimap is None else network(x, trimap.to(x.dtype))
    outputs = (out,) if isinstance(out, torch.Tensor) else tuple(out)
    named = {name: o.double() for name, o in zip(output_names(network), outputs)}
    check_finite(named, type(network).__name__)
    return named


def check_finite(outputs: dict[str, torch.Tensor], network_name: str) -> None:
    """Refuse NaN/inf outputs here: later steps (the hybrid fusion's argmax and where, clipping,
    8-bit rounding) would turn them into plausible-looking numbers."""
    for name, o in outputs.items():
        bad = int(o.numel() - torch.isfinite(o).sum())
        if bad:
            raise MatbenchError(f"{network_name} output '{name}' has {bad} non-finite (NaN/inf) values "
                                "(broken weights, or fp16 overflow under --amp)")


class BaseStrategy:
    """Base of the strategies: ``strategy(network, image)`` returns the H x W alpha (float64) of
    a 1 x 3 x H x W RGB image in [0, 1] (float64: 8-bit values / 255); ``run`` also returns the full-size global trimap
    (uint8 0/128/255) when the strategy makes one. ``trimap=`` (1 x 1 x H x W in [0, 1]) is
    given for trimap-based networks and follows the image through padding and resizing."""

    #: each inner tuple: one of these outputs must exist
    needs: tuple[tuple[str, ...], ...] = (("fusion", "alpha"),)

    def check_model(self, network: nn.Module) -> None:
        """Refuse, with a clear message, a network whose outputs this strategy cannot use."""
        have = output_names(network)
        for options in self.needs:
            if not any(o in have for o in options):
                raise MatbenchError(
                    f"strategy '{type(self).__name__}' needs a model with a {' or '.join(repr(o) for o in options)} "
                    f"output; '{type(network).__name__}' gives {', '.join(have)}")

    @staticmethod
    def pick(outputs: dict[str, torch.Tensor], options: Iterable[str]) -> torch.Tensor:
        return next(outputs[o] for o in options if o in outputs)

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    #: attributes shown as fractions in the "Test" cell, in order (e.g. a scale factor)
    label_params: tuple[str, ...] = ()

    def label(self) -> str:
        """The "Test" cell of a table: the class name and its ``label_params`` as fractions, joined
        by "&" as the AIM README writes them ("Hybrid (1/2&1/4)")."""
        shown = [str(Fraction(getattr(self, k)).limit_denominator(64)) for k in self.label_params]
        return f"{type(self).__name__} ({'&'.join(shown)})" if shown else type(self).__name__

    def __call__(self, network: nn.Module, image: torch.Tensor, trimap: torch.Tensor | None = None) -> torch.Tensor:
        return self.run(network, image, trimap)["alpha"]


def check_size(size: tuple[int, int], image: torch.Tensor, what: str) -> None:
    if min(size) <= 0:
        raise MatbenchError(f"a {image.shape[2]}x{image.shape[3]} image is too small for the {what} "
                            f"(its scaled size would be {size[0]}x{size[1]})")
