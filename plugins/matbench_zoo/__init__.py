"""matbench's model zoo: published matting networks, each module for module its official code,
loading the released checkpoints as they are distributed and run by default exactly as its
authors' test script ran it (``default_strategy``), its outputs saved and scored as that script
saved them (``save_rule``). Model cards: ``docs/models/``.

Trimap-free: GFM, P3M-Net, MODNet. Trimap-based: GCA, MatteFormer, IndexNet. Each sub-package is
a plugin of its own (entry points ``zoo-<name>``), so a command imports only the network it runs.
"""
