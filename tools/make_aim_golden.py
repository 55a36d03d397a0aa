"""Regenerate tests/fixtures/aim_golden.json: official "aim" metric values for seeded inputs.

How the fixture was made: every case is a recipe (kind, seed, shape, ...) that
``matbench_metrics.aim.golden_inputs.make_case`` turns into (pred, alpha, trimap); the ten values
come from the official AIM code (github:JizhiziLi/AIM, core/evaluate.py, run unchanged through
tools/official ``official_metrics``). Photo cases use the alpha mattes and trimaps
of alphamatting-lowres (not stored in the repository) with a seeded blurred + noisy 8-bit
prediction. Non-finite official values (mse_trimap / mad_trimap without unknown pixels) are
stored as null.

    AIM_REF=/path/to/AIM python tools/make_aim_golden.py [--out FILE]
    # AIM_REF: a checkout of github.com/JizhiziLi/AIM
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from official import official_metrics

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "aim_golden.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT, help="where to write (default: the fixture)")
    args = ap.parse_args()
    from matbench_metrics.aim.golden_inputs import PHOTO_DIR, make_case, photo_cases, synthetic_cases

    recipes = synthetic_cases()
    if PHOTO_DIR.is_dir():
        recipes += photo_cases()
    else:
        print(f"warning: {PHOTO_DIR} missing: photo cases left out", file=sys.stderr)
    cases = []
    for recipe in recipes:
        pred, alpha, trimap = make_case(recipe)
        values = official_metrics(pred, alpha, trimap)
        values = {k: (v if math.isfinite(v) else None) for k, v in values.items()}
        cases.append({"recipe": recipe, "official": values})
        print(recipe["name"], values)
    doc = {
        "_note": "Official AIM metric values (core/evaluate.py via tools/official) for "
                 "inputs rebuilt from each recipe by matbench_metrics.aim.golden_inputs.make_case; "
                 "photo cases need alphamatting-lowres (not in the repository). Made by "
                 "tools/make_aim_golden.py; null = the official value is inf/nan (no unknown pixels).",
        "cases": cases,
    }
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
