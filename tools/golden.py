"""What every ``make_*_golden.py`` tool shares: its ``--out`` option and how it writes the fixture.

Imported inside each tool's ``main`` (the tests load some tools as modules for their cases and
scenes, without ``tools/`` on ``sys.path``)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Mapping

import numpy as np


def fixture_path(doc: str, default: Path) -> Path:
    """The ``--out`` of a golden tool's command line (``doc``: its module docstring, whose first
    line describes it), by default the fixture the tests read."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--out", type=Path, default=default, help="where to write (default: the fixture)")
    return ap.parse_args().out


def write_fixture(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """``arrays`` as a compressed ``.npz`` at ``path``, and one line saying what was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size / 1024:.1f} KiB): "
          + ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items()))
