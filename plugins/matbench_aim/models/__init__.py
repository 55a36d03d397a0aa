"""AimNet and its backbone."""
from .aimnet import AimNet  # noqa: F401  (registers MODELS 'AimNet')
from .resnet_mp import ResNet34MP  # noqa: F401  (registers MODELS 'ResNet34MP')
