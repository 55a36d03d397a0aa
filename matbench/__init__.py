"""matbench: a plugin-based benchmark toolkit for natural image matting.

``matbench.evaluate(...)`` runs an evaluation as ``matbench eval`` does and returns its
:class:`~matbench.results.Results`; ``matbench.load(path)`` reads a finished run. Plugins import
from :mod:`matbench.api`.
"""
__version__ = "0.1.0"
#: the distribution's name on the package index (``matbench`` there is another project); the
#: import name and the command are ``matbench``
DISTRIBUTION = "matbench-matting"

__all__ = ["DISTRIBUTION", "Results", "__version__", "evaluate", "load"]


def __getattr__(name: str) -> object:
    """The Python API, imported at its first use (``import matbench`` stays instant)."""
    if name in ("Results", "evaluate", "load"):
        from . import results

        return getattr(results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
