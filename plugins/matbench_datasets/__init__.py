"""matbench_datasets plugin: a plain folder dataset and the embedded default dataset."""
from . import embedded, folder  # noqa: F401  (registers DATASETS 'folder' and 'embedded')
