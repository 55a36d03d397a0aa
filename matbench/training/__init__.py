"""Training on mmengine's Runner: safe resume, the `matbench train` entry point."""

#: Training models' default data preprocessor: batches reach the device by non-blocking copies,
#: which overlap with compute when the DataLoader pins memory (as ``matbench train`` does on CUDA).
PIPELINED_PREPROCESSOR = dict(type="BaseDataPreprocessor", non_blocking=True)
