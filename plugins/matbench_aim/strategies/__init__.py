"""Inference strategies: how a network is applied to a full-size photograph."""
from .full import Full  # noqa: F401  (registers STRATEGIES 'full')
from .hybrid import Hybrid  # noqa: F401  (registers STRATEGIES 'hybrid')
from .resize import Resize  # noqa: F401  (registers STRATEGIES 'resize')
from .tiled import Tiled  # noqa: F401  (registers STRATEGIES 'tiled')
