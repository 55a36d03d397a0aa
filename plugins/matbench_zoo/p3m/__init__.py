"""P3M-Net (Li et al., ACM MM 2021; github.com/JizhiziLi/P3M): the network ``P3MNet`` and its
official test procedures ``p3m-resize`` (the default) and ``p3m-hybrid``. Model card:
``docs/models/p3m.md``."""
from .network import P3MNet  # noqa: F401  (registers MODELS 'P3MNet')
from .strategies import P3MHybrid, P3MResize  # noqa: F401  (registers STRATEGIES 'p3m-resize', 'p3m-hybrid')
