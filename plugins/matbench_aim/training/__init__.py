"""Training models for mmengine's Runner: the AIM matting stages and the stage-0 classifier."""
from .classifier import ImageClassifier  # noqa: F401  (registers MODELS 'ImageClassifier')
from .imagefolder import ImageFolderDataset  # noqa: F401  (registers DATASETS 'imagefolder')
from .mattor import AimMattor  # noqa: F401  (registers MODELS 'AimMattor')
