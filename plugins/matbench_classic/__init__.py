"""matbench_classic plugin: weight-free trimap-based matting methods from pymatting."""
from . import pymatting_methods  # noqa: F401  (registers MODELS 'ClosedForm', 'KNN', 'LKM')
