"""An example matbench plugin. matbench imports this module on start-up (entry point
``matbench.plugins``); importing the submodules registers their classes."""
from . import dataset, method, metric, network, strategy  # noqa: F401  (each registers one plugin)

__version__ = "0.1.0"
