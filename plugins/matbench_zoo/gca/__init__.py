"""GCA Matting (Li & Lu, AAAI 2020): the network ``GCA`` (module for module the official code,
loading the released checkpoints as distributed) and its two official test procedures,
``gca-test`` (the default, Composition-1k) and ``gca-demo``. Model card: docs/models/gca.md."""
from . import network, strategies  # noqa: F401  (register MODELS 'GCA', STRATEGIES 'gca-test', 'gca-demo')
