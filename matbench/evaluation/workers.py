"""Metric worker processes that never outlive the evaluation that started them, never hang it,
and say when one of them dies.

A worker ignores SIGINT (Ctrl-C reaches the whole process group; the parent alone decides how
to stop) and dies with its parent: on Linux through ``PR_SET_PDEATHSIG``, elsewhere through a
thread that watches the parent's pid. Without this, a ``kill -9`` of ``matbench eval`` leaves
its workers (each holding a copy of the parent's memory) running forever.

:class:`WorkerPool` talks to each worker through a pipe of its own and watches each worker's
process: no lock is shared between processes, so a worker killed at any moment (the OOM killer,
``os._exit`` in a plugin, SIGTERM to the process group from ``timeout``, Slurm or ``docker stop``)
can neither deadlock the parent (``multiprocessing.Pool`` waits forever for a task a dead worker
took, and its ``terminate`` deadlocks on a queue lock a killed worker held) nor go unnoticed: the
parent gets a one-line :class:`WorkerDied` naming the image the worker was scoring.
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
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any, Callable

from ..errors import FormatMismatchWarning, MatbenchError

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
    torch = sys.modules.get("torch")
    if torch is not None:               # forked from a model's run: one thread each (the budget counts us as one)
        torch.set_num_threads(1)
    if not _die_with_parent_linux():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:          # the parent died before the death signal was armed
        os._exit(1)
    if warm_up is not None:
        warm_up()


class WorkerDied(MatbenchError):
    """A worker process ended while it had work (killed, out of memory, a plugin's os._exit)."""


#: tasks sent ahead to each worker (the rest wait in the parent: no pipe ever fills up)
_AHEAD = 2


def _serve(conn: Connection, parent: int, warm_up: Callable[[], object] | None) -> None:
    """A worker's loop: ``(task id, function, args)`` in, ``(task id, ok, result or exception)`` out."""
    worker_init(parent, warm_up)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, function, args = message
        try:
            reply = (task_id, True, function(*args))
        except Exception as exc:  # noqa: BLE001 - the parent re-raises it
            reply = (task_id, False, exc)
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - an exception or result that cannot be pickled
            conn.send((task_id, False, RuntimeError(f"{type(exc).__name__}: {exc}")))


class Pending:
    """The result of a task given to a :class:`WorkerPool` (``multiprocessing``'s AsyncResult API)."""

    def __init__(self, pool: "WorkerPool", task_id: int) -> None:
        self.pool, self.task_id = pool, task_id

    def ready(self) -> bool:
        """Whether the result is in (results come in whenever the pool is polled: at each
        :meth:`WorkerPool.apply_async`, :meth:`WorkerPool.poll` and :meth:`get`)."""
        return self.task_id in self.pool.done

    def get(self) -> Any:
        while self.task_id not in self.pool.done:
            self.pool.poll(0.5)
        ok, value = self.pool.done.pop(self.task_id)
        if not ok:
            raise value
        return value


class WorkerPool:
    """``processes`` worker processes, each running ``warm_up`` first; tasks go to the least busy."""

    def __init__(self, processes: int, warm_up: Callable[[], object] | None = None) -> None:
        torch = sys.modules.get("torch")
        # forked unless CUDA is initialised: a forked child cannot use the parent's CUDA context
        method = "spawn" if torch is not None and torch.cuda.is_initialized() else "fork"
        ctx = multiprocessing.get_context(method)
        self.workers: list[tuple[Any, Connection]] = []
        for _ in range(processes):
            mine, theirs = ctx.Pipe()
            process = ctx.Process(target=_serve, args=(theirs, os.getpid(), warm_up), daemon=True)
            process.start()
            theirs.close()
            self.workers.append((process, mine))
        self.queue: deque[tuple[int, Callable, tuple, str]] = deque()
        self.running: list[deque[tuple[int, str]]] = [deque() for _ in self.workers]
        self.done: dict[int, tuple[bool, Any]] = {}
        self._next_id = 0

    def apply_async(self, function: Callable, args: tuple = (), what: str = "") -> Pending:
        """Run ``function(*args)`` in a worker; ``what`` names the work in a :class:`WorkerDied`."""
        self._next_id += 1
        self.queue.append((self._next_id, function, args, what))
        self.poll(0)
        return Pending(self, self._next_id)

    def _pump(self) -> None:
        while self.queue:
            index = min(range(len(self.workers)), key=lambda i: len(self.running[i]))
            if len(self.running[index]) >= _AHEAD:
                return
            task_id, function, args, what = self.queue.popleft()
            self.workers[index][1].send((task_id, function, args))
            self.running[index].append((task_id, what))

    def poll(self, timeout: float) -> None:
        """Collect finished results (waiting up to ``timeout`` s for one); raise
        :class:`WorkerDied` when a worker ended with work outstanding."""
        conns = {conn: i for i, (_, conn) in enumerate(self.workers)}
        sentinels = {process.sentinel: i for i, (process, _) in enumerate(self.workers)}
        for ready in wait([*conns, *sentinels], timeout):
            if ready in conns:
                index = conns[ready]
                try:
                    task_id, ok, value = ready.recv()
                except (EOFError, OSError):
                    continue                    # its process sentinel tells what happened
                self.done[task_id] = (ok, value)
                self.running[index] = deque(t for t in self.running[index] if t[0] != task_id)
            else:
                self._check_alive(sentinels[ready])
        self._pump()

    def _check_alive(self, index: int) -> None:
        process, conn = self.workers[index]
        process.join(0)
        if process.exitcode is None:
            return
        while conn.poll():                      # results it sent before it ended still count
            try:
                task_id, ok, value = conn.recv()
            except (EOFError, OSError):
                break
            self.done[task_id] = (ok, value)
            self.running[index] = deque(t for t in self.running[index] if t[0] != task_id)
        if self.running[index] or self.queue:
            code = process.exitcode
            how = (f"killed by {signal.Signals(-code).name}" + (" (out of memory?)" if code == -signal.SIGKILL else "")
                   if code < 0 else f"exit code {code}")
            what = self.running[index][0][1] if self.running[index] else "an image"
            raise WorkerDied(f"a metric process (pid {process.pid}) ended while scoring {what or 'an image'} "
                             f"({how}); what was finished is kept: run the same command to resume")

    def terminate(self) -> None:
        """Stop every worker at once (SIGKILL: nothing shared can be left locked)."""
        for process, conn in self.workers:
            if process.exitcode is None:
                process.kill()
        for process, conn in self.workers:
            process.join(5)
            conn.close()
        self.workers, self.running, self.queue = [], [], deque()

    def join(self) -> None:
        """Kept for ``multiprocessing.Pool``'s API: :meth:`terminate` already waited."""


def start_pool(processes: int, warm_up: Callable[[], object] | None = None) -> WorkerPool:
    """A pool of `processes` workers bound to this process (see the module doc)."""
    return WorkerPool(processes, warm_up)
