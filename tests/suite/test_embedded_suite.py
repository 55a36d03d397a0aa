"""The shipped suite on the embedded dataset, end to end as a user runs it: two classical
methods and a network with random weights on 4 images, the tables, the report and the record."""
import json
import time
from pathlib import Path

from suite_helpers import bench, pairs

SUITE = Path(__file__).resolve().parents[2] / "configs" / "suites" / "embedded.py"
LABELS = ["ClosedForm", "KNN", "AimNet resize (random weights)"]


def test_embedded_suite_end_to_end(tmp_path):
    work = tmp_path / "W"
    start = time.monotonic()
    done = bench(SUITE, "--work-dir", work, "--threads", "2", cwd=tmp_path)
    seconds = time.monotonic() - start
    print(f"embedded suite: {seconds:.1f} s")          # measured, never asserted (a shared machine)
    assert done.returncode == 0, done.stderr
    for step, label in enumerate(LABELS, 1):
        assert f"[{step}/3] embedded / {label}: done: 4 computed" in done.stderr
        assert f"| {label}" in done.stdout
    record = json.loads((work / "suite.json").read_text())
    assert record["status"] == "done" and record["suite"]["path"] == str(SUITE)
    assert len(record["suite"]["sha256"]) == 64 and record["threads"] == 2
    assert [(p["folder"], p["status"], p["images"]) for p in record["pairs"]] == [
        ("embedded/closedform", "done", 4), ("embedded/knn", "done", 4),
        ("embedded/aimnet-resize-random-weights", "done", 4)]
    assert all(p["seconds"] > 0 for p in record["pairs"])
    assert (work / "leaderboard.md").read_text().startswith("<!-- matbench leaderboard -->\n**Table 1. Whole image")
    assert (work / "embedded" / "report.html").is_file() and (work / "embedded" / "report_files").is_dir()
    assert f"tables: {work / 'leaderboard.md'}" in done.stdout
    results = json.loads((work / "embedded" / "knn" / "results.json").read_text())
    assert results["meta"]["label"] == "KNN" and results["meta"]["dataset"]["num_images"] == 4
    assert set(pairs(work)) == {("embedded", label) for label in LABELS}
