"""matbench's model zoo: published matting networks, each module for module its official code,
loading the released checkpoints as they are distributed and run by default exactly as its
authors' test script ran it (``default_strategy``), its outputs saved and scored as that script
saved them (``save_rule``). Model cards: ``docs/models/``.
"""
from . import indexnet  # noqa: F401  (registers its MODELS, STRATEGIES and REFERENCES)
