"""In-memory changes made to run the official code here, always undone at the end of a block."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

_ABSENT = object()


@contextlib.contextmanager
def patched(target: Any, **attributes: Any) -> Iterator[None]:
    """Set attributes of ``target`` (a module, a class) inside the block; restore them after."""
    saved = {name: vars(target).get(name, _ABSENT) for name in attributes}
    for name, value in attributes.items():
        setattr(target, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is _ABSENT:
                delattr(target, name)
            else:
                setattr(target, name, value)


@contextlib.contextmanager
def cuda_as_noop() -> Iterator[None]:
    """``.cuda()`` of tensors and modules returns them unchanged inside the block: the official
    training code and losses call it unconditionally, which a CPU run must skip."""
    import torch

    identity = lambda self, *args, **kwargs: self  # noqa: E731
    with patched(torch.Tensor, cuda=identity), patched(torch.nn.Module, cuda=identity):
        yield
