"""MatteFormer (Park et al., "MatteFormer: Transformer-Based Image Matting via Prior-Tokens",
CVPR 2022; github.com/webtoon/matteformer), module for module its official code: the network
(``MatteFormer``), its official inference procedure (strategy ``matteformer-inference``) and
conditioned random weights for parity tests (``conditioning``). Model card:
docs/models/matteformer.md."""
from .network import MatteFormer  # noqa: F401  (registers MODELS 'MatteFormer')
from .strategy import MatteFormerInference  # noqa: F401  (registers STRATEGIES 'matteformer-inference')
