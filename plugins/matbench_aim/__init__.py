"""matbench_aim plugin: AimNet, its inference strategies and the AIM-500 dataset, registered
exactly as a third party's plugin would be."""
from . import datasets  # noqa: F401  (registers DATASETS 'AIM500' / 'aim500')
from . import models  # noqa: F401  (registers MODELS 'AimNet', 'ResNet34MP')
from . import strategies  # noqa: F401  (registers STRATEGIES 'resize', 'hybrid', 'full', 'tiled')
