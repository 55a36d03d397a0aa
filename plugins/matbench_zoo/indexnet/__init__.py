"""IndexNet Matting (Lu et al., ICCV 2019): the network (``IndexNet``), its official test
procedure (strategy ``indexnet-test``) and the README's published Composition-1k rows (reference
source ``indexnet-readme``). Model card: ``docs/models/indexnet.md``."""
from pathlib import Path

from matbench.api import REFERENCES, reference_file

from . import network, strategy  # noqa: F401  (MODELS IndexNet, STRATEGIES indexnet-test)

REFERENCES.register_module(name="indexnet-readme",
                           module=reference_file(Path(__file__).with_name("indexnet-readme.json"), __name__))
