"""Scoring a folder of predictions is a light process: with the plugin index warm, `matbench
eval --predictions` imports neither torch nor mmengine's runner nor the plugins it does not use,
and the metric workers start with the command (not at the first image)."""
import json
import os
import subprocess
import sys

SCRIPT = """
import sys
from matbench.cli import main
sys.argv = ["matbench"] + sys.argv[1:]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
print("IMPORTED", " ".join(m for m in ("torch", "mmengine.runner", "matbench_aim", "matbench_vitmatte",
                                       "matbench_onnx") if m in sys.modules), file=sys.stderr)
sys.exit(code)
"""


def test_scoring_predictions_imports_no_torch(tiny_aim500, tiny_predictions, tmp_path):
    env = dict(os.environ, MATBENCH_CACHE=str(tmp_path / "cache"), COLUMNS="200")
    subprocess.run([sys.executable, "-m", "matbench.cli", "list"], env=env, check=True, capture_output=True)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    for dataset, root in (("aim500", tiny_aim500), ("folder", None)):
        args = ["eval", "--predictions", str(tiny_predictions), "--work-dir", str(tmp_path / dataset),
                "--no-report", "--dataset", dataset, "--data-root", str(tiny_aim500)]
        if root is None:
            args += ["--dataset-option", "image_dir='original'", "--dataset-option", "alpha_dir='mask'"]
        proc = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        imported = proc.stderr.strip().splitlines()[-1]
        assert imported == "IMPORTED", (dataset, imported)
        rows = json.loads((tmp_path / dataset / "results.json").read_text())["per_image"]
        assert len(rows) == 4 and all(r["sad"] >= 0 for r in rows)
