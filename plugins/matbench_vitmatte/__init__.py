"""ViTMatte as transformers ships it: a trimap-based network registered as model ``ViTMatte``.

The weights are a local checkpoint folder as ``save_pretrained`` writes it (``config.json`` and
``model.safetensors``; ``--checkpoint DIR``); nothing is ever downloaded. transformers is the
optional ``vitmatte`` extra and is imported only when the model is built, so matbench works
without it.
"""
from .model import ViTMatte  # noqa: F401  (registers MODELS 'ViTMatte')
