"""The README's main job, `matbench demo`, as a user runs it."""
import subprocess
import sys


def test_demo_prints_and_writes_the_leaderboard(tmp_path):
    res = subprocess.run([sys.executable, "-m", "matbench.cli", "demo", "--work-dir", str(tmp_path / "demo"),
                          "--model", "ClosedForm"], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Table 1. Whole image - variant aim" in res.stdout and "| ClosedForm" in res.stdout
    written = (tmp_path / "demo" / "leaderboard.md").read_text()
    assert "Table 2. SAD per category" in written
    assert (tmp_path / "demo" / "closedform" / "results.json").is_file()
