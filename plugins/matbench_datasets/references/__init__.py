"""Published results on the standard test sets, one JSON file per source (each row cites the
table it comes from), registered as reference sources under their file names."""
from pathlib import Path

from matbench.api import REFERENCES, reference_file

for _path in sorted(Path(__file__).parent.glob("*.json")):
    REFERENCES.register_module(name=_path.stem, module=reference_file(_path, __name__))
