"""User-facing errors: the CLI prints them as one line and exits non-zero."""
from __future__ import annotations

import os


class MatbenchError(Exception):
    """A problem the user can fix; its message is one line, no traceback is shown."""


class InputError(MatbenchError):
    """Bad input data: names the offending file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # keep (path, problem) across process boundaries
        return (type(self), (self.path, self.problem))


class MatbenchWarning(UserWarning):
    """Something the user should know, printed by the CLI as one ``matbench: warning:`` line."""


class FormatMismatchWarning(MatbenchWarning):
    """A file whose content is not the format its extension says (e.g. a JPEG named .png)."""


class PluginWarning(MatbenchWarning):
    """A plugin that could not be loaded; the other plugins keep working."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM received by the main process: finished work is kept, the run stops.

    A ``BaseException``, like ``KeyboardInterrupt``, so no ``except Exception`` swallows it, but
    its own class, so no library turns it into a normal return (typer maps KeyboardInterrupt
    to exit code 130 *returned* when not in standalone mode)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signum)
