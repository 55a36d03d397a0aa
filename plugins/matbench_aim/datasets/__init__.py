"""Training dataset plugins: DUTS, composition and any AIM-500-layout set (AIM-500 itself, a test
set, is in matbench_datasets)."""
from .composition import CompositionDataset  # noqa: F401  (registers DATASETS 'composition')
from .duts import DUTSDataset  # noqa: F401  (registers DATASETS 'duts')
from .matting_train import MattingTrainDataset  # noqa: F401  (registers DATASETS 'matting_train')
from .seeding import EpochAwareSampler, InfiniteEpochAwareSampler  # noqa: F401  (mmengine DATA_SAMPLERS)
