"""The published AimNet rows on AIM-500 (the AIM README), as a reference source."""
from pathlib import Path

from matbench.api import REFERENCES, reference_file

REFERENCES.register_module(name="aim-readme",
                           module=reference_file(Path(__file__).with_name("aim-readme.json"), __name__))
