"""GFM (Li et al., IJCV 2022) in matbench: the network (``network``), its official test
procedure as strategies (``strategies``: ``gfm-hybrid``, ``gfm-resize``), the scikit-image 0.17.2
resizing that procedure depends on (``resize``) and conditioned random weights for parity checks
(``conditioning``). Model card: ``docs/models/gfm.md``."""
from . import network, strategies  # noqa: F401  (register MODELS 'GFM', STRATEGIES 'gfm-hybrid', 'gfm-resize')
