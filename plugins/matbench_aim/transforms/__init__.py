"""Training transforms of the AIM plugin (stage 1: DUTS; stage 2: composites / matting sets),
registered in ``matbench.registry.TRANSFORMS``."""
from .base import AimTransform
from .composition import Composite, RandomBackgroundBlur, RandomGaussianNoise, ResizeBackground, composite
from .formatting import PackAimInputs
from .geometric import RandomFlip, RandomTransitionCrop, ResizeTo
from .loading import LoadAimTrainSample
from .targets import EstimateForegroundBackground, GenerateTrimap, GenerateUSR

__all__ = ["AimTransform", "LoadAimTrainSample", "GenerateTrimap", "GenerateUSR", "EstimateForegroundBackground",
           "ResizeBackground", "RandomBackgroundBlur", "Composite", "RandomGaussianNoise", "RandomTransitionCrop",
           "RandomFlip", "ResizeTo", "PackAimInputs", "composite"]
