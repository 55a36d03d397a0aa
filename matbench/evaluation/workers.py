"""Metric worker processes that never outlive the evaluation that started them.

A worker ignores SIGINT (Ctrl-C reaches the whole process group; the parent alone decides how
to stop) and dies with its parent: on Linux through ``PR_SET_PDEATHSIG``, elsewhere through a
thread that watches the parent's pid. Without this, a ``kill -9`` of ``matbench eval`` leaves
its workers (each holding a copy of the parent's memory) running forever.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import warnings
import time
from multiprocessing.pool import Pool
from typing import Callable

from ..errors import FormatMismatchWarning

_PR_SET_PDEATHSIG = 1


def _die_with_parent_linux() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def worker_init(parent: int, warm_up: Callable[[], object] | None = None) -> None:
    """Pool initializer: ignore SIGINT and end when process `parent` ends; then run `warm_up`
    (e.g. load compiled code from numba's cache) while the parent still prepares the work."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the main process reports files whose format differs from their name, once for the run
    warnings.simplefilter("ignore", FormatMismatchWarning)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _die_with_parent_linux():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:          # the parent died before the death signal was armed
        os._exit(1)
    if warm_up is not None:
        warm_up()


def start_pool(processes: int, warm_up: Callable[[], object] | None = None) -> Pool:
    """A pool of `processes` workers bound to this process (forked unless CUDA is initialised:
    a forked child cannot use the parent's CUDA context; a process without torch has none)."""
    torch = sys.modules.get("torch")
    method = "spawn" if torch is not None and torch.cuda.is_initialized() else "fork"
    ctx = multiprocessing.get_context(method)
    return ctx.Pool(processes, initializer=worker_init, initargs=(os.getpid(), warm_up))
