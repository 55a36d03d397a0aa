"""matbench_aim plugin: the AIM-500 dataset (and, from other modules, AimNet)."""
from . import datasets  # noqa: F401  (registers DATASETS 'AIM500' / 'aim500')
