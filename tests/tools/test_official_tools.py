"""tools/official: the one-line error without an official checkout and, when AIM_REF names one,
the official values of the golden fixture, modules kept out of sys.modules, a checkout left as it
was. Run in subprocesses: the tools are scripts with tools/ as their import root."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"


def _python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=TOOLS, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("aim_ref", [None, "empty"])
def test_clear_error_without_a_checkout(tmp_path, aim_ref):
    env = {k: v for k, v in os.environ.items() if k != "AIM_REF"}
    if aim_ref:
        env["AIM_REF"] = str(tmp_path)
    res = _python("import numpy as np, official\n"
                  "try:\n"
                  "    official.official_metrics(np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 4), np.uint8))\n"
                  "except official.OfficialCodeError as err:\n"
                  "    print(err)\n", env)
    assert res.returncode == 0, res.stderr
    message = res.stdout.strip()
    assert "\n" not in message and message.startswith("AIM_REF must name a checkout")
    assert repr(str(tmp_path) if aim_ref else "") in message


CHECK = """
import json, math, sys
from pathlib import Path
import numpy as np
import official
from matbench_metrics.aim.golden_inputs import make_case

cases = json.loads(Path(sys.argv[1]).read_text())["cases"]
cases = [c for c in cases if c["recipe"]["kind"] != "photo"][:8]
same = 0
for case in cases:
    values = official.official_metrics(*make_case(case["recipe"]))
    same += all((v if math.isfinite(v) else None) == case["official"][k] for k, v in values.items())
for name in ("test", "data", "process_data", "network.AimNet"):
    official.module(name)
alpha = official.predict(official.build_aimnet(), np.full((160, 224, 3), 128, np.uint8), "HYBRID")
generic = sorted(n for n in sys.modules if n.split(".")[0] in
                 ("config", "util", "evaluate", "test", "data", "process_data", "network"))
print(json.dumps(dict(same=same, cases=len(cases), generic=generic, shape=list(alpha.shape))))
"""


@pytest.mark.skipif(not os.environ.get("AIM_REF"), reason="needs AIM_REF=/path/to/AIM (an official checkout)")
def test_official_code_from_a_checkout():
    core = Path(os.environ["AIM_REF"]) / "core"
    before = sorted(p.relative_to(core) for p in core.rglob("*"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}    # bytecode on: none in core/
    res = subprocess.run([sys.executable, "-c", CHECK, str(ROOT / "tests" / "fixtures" / "aim_golden.json")],
                         cwd=TOOLS, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["same"] == out["cases"] > 0
    assert out["generic"] == [] and out["shape"] == [160, 224]
    assert sorted(p.relative_to(core) for p in core.rglob("*")) == before      # no __pycache__ written
