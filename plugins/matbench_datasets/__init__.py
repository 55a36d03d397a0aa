"""matbench_datasets plugin: the standard matting test sets (each read as its official code reads
it), a plain folder dataset, the embedded default dataset, and the published rows on those sets."""
from . import aim500, am2k, comp1k, p3m, ppm100, rwp636  # noqa: F401  (DATASETS aim500, am2k, comp1k, p3m500-p/-np, ppm100, rwp636)
from . import embedded, folder  # noqa: F401  (DATASETS 'folder' and 'embedded')
from . import references  # noqa: F401  (REFERENCES: published rows on the standard test sets)
