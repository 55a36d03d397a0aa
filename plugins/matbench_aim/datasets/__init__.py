"""Dataset plugins: AIM-500 for evaluation; DUTS, composition and any AIM-500-layout set for training."""
from .aim500 import AIM500  # noqa: F401  (registers DATASETS 'aim500')
from .composition import CompositionDataset  # noqa: F401  (registers DATASETS 'composition')
from .duts import DUTSDataset  # noqa: F401  (registers DATASETS 'duts')
from .matting_train import MattingTrainDataset  # noqa: F401  (registers DATASETS 'matting_train')
from .seeding import EpochAwareSampler, InfiniteEpochAwareSampler  # noqa: F401  (mmengine DATA_SAMPLERS)
