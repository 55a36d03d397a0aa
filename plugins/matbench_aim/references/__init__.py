"""The published AimNet rows on AIM-500 (the AIM README), as a reference source."""
from pathlib import Path

from matbench.leaderboard.references import reference_file
from matbench.registry import REFERENCES

REFERENCES.register_module(name="aim-readme",
                           module=reference_file(Path(__file__).with_name("aim-readme.json"), __name__))
