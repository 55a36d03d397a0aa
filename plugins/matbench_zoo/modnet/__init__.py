"""MODNet (Ke et al., AAAI 2022), trimap-free portrait matting: the network, module for module
its official code (``network``, ``backbone``), and the official inference procedures
(``strategies``). Model card: docs/models/modnet.md."""
from .network import MODNet  # noqa: F401  (registers MODELS 'MODNet')
from .strategies import ModnetColab, ModnetOnnx  # noqa: F401  (registers STRATEGIES 'modnet-colab', 'modnet-onnx')
