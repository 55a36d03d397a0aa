"""``matbench bench`` as a user runs it: a pair that fails does not stop the others, the command
exits 2 naming it, and the next invocation computes only that pair; the Python API does the same
and computes a pair again when its entry changed."""
import shutil

from suite_helpers import bench, pairs, reused, suite_text, tiny_sets, write_suite

RUNS = ["ClosedForm", "KNN", "theirs"]
FOLDERS = {"ClosedForm": "closedform", "KNN": "knn", "theirs": "theirs"}


def test_failed_pair_is_named_and_alone_recomputed(tmp_path):
    tiny_sets(tmp_path)
    missing = tmp_path / "pred" / "studio" / "c03.png"
    kept = missing.read_bytes()
    missing.unlink()
    suite = write_suite(tmp_path / "suite.py", suite_text(tmp_path))
    work = tmp_path / "W"

    first = bench(suite, "--work-dir", work, "--threads", "2", cwd=tmp_path)
    assert first.returncode == 2, first.stderr
    errors = [line for line in first.stderr.splitlines() if line.startswith("matbench: error:")]
    assert errors[0].startswith("matbench: error: 1 of 6 pairs failed")
    assert len(errors) == 2 and "studio / theirs" in errors[1] and "c03.png: prediction missing" in errors[1]
    assert "[6/6] studio / theirs: failed:" in first.stderr
    assert "[1/6] aim500 / ClosedForm" in first.stderr
    status = {key: p["status"] for key, p in pairs(work).items()}
    assert status == {(d, r): "failed" if (d, r) == ("studio", "theirs") else "done"
                      for d in ("aim500", "studio") for r in RUNS}
    assert pairs(work)[("studio", "theirs")]["reason"].endswith("prediction missing (1 of 4 missing)")
    # the five finished pairs are in the tables and reports
    assert "## Across datasets" in first.stdout and "Table 1. SAD across datasets" in first.stdout
    assert (work / "leaderboard.md").read_text().startswith("<!-- matbench leaderboard -->")
    assert (work / "aim500" / "report.html").is_file() and (work / "studio" / "report.html").is_file()

    missing.write_bytes(kept)
    second = bench(suite, "--work-dir", work, "--threads", "2", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "[6/6] studio / theirs: done: 4 computed" in second.stderr
    for dataset in ("aim500", "studio"):
        for run in RUNS:
            if (dataset, run) == ("studio", "theirs"):
                assert reused(work, f"{dataset}/theirs") == (0, 4)
                continue
            assert reused(work, f"{dataset}/{FOLDERS[run]}") == (4, 4)      # evaluate's meta.resume
            assert f"{dataset} / {run}: done: 4/4 reused" in second.stderr
    record = pairs(work)
    assert all(p["status"] == "done" for p in record.values())
    assert record[("studio", "theirs")]["computed"] == 4 and record[("aim500", "KNN")]["reused"] == 4


def test_api_skips_restarts_and_returns_results(tmp_path, capsys):
    from matbench.suite import run_suite

    tiny_sets(tmp_path)
    shutil.copytree(tmp_path / "pred" / "aim500", tmp_path / "pred2")
    work = tmp_path / "W"
    suite = {"datasets": [dict(name="aim500", data_root=str(tmp_path / "AIM-500")),
                          dict(name="folder", key="studio", data_root=str(tmp_path / "studio"),
                               options=dict(image_dir="original", alpha_dir="mask", trimap_dir="trimap"))],
             "runs": [dict(label="ClosedForm", model="ClosedForm", datasets=["aim500"]),
                      # no folder for 'studio': that pair is skipped with a note
                      dict(label="theirs", predictions=dict(aim500=str(tmp_path / "pred" / "aim500")))]}
    out = run_suite(suite, work_dir=work, threads=1, report=False)
    assert [(p.dataset, p.run, p.status) for p in out.pairs] == [
        ("aim500", "ClosedForm", "done"), ("aim500", "theirs", "done"), ("studio", "theirs", "skipped")]
    assert "has no predictions folder for dataset 'studio'" in out.skipped[0].reason
    assert "studio / theirs: skipped" in capsys.readouterr().err
    assert not out.failed and len(out.results()) == 2 and out.results("aim500")[1].meta["label"] == "theirs"
    assert out.leaderboard == work / "leaderboard.md" and "Across datasets" not in out.text   # one dataset
    assert not (work / "aim500" / "report.html").exists()

    # the same suite again: every row reused; an entry changed (another folder): that pair from scratch
    suite["runs"][1]["predictions"] = dict(aim500=str(tmp_path / "pred2"))
    again = run_suite(suite, work_dir=work, threads=1, report=False, fmt="csv")
    closedform, theirs = again.pairs[:2]
    assert (closedform.reused, closedform.images, closedform.restarted) == (4, 4, None)
    assert (theirs.reused, theirs.computed) == (0, 4)
    assert theirs.restarted == "predictions changed since its folder was computed"
    assert "aim500 / theirs: predictions changed since its folder was computed: computing it again from " \
           "scratch" in capsys.readouterr().err
    assert again.text.startswith("variant,run,test") and (work / "leaderboard.csv").is_file()

    # nothing finishes (a folder that does not exist): no table is left that could be taken for current
    suite["runs"] = [dict(label="theirs", predictions=dict(aim500=str(tmp_path / "gone")))]
    assert (work / "leaderboard.md").is_file()
    last = run_suite(suite, work_dir=work, threads=1, report=False)
    assert [p.status for p in last.pairs] == ["failed", "skipped"] and "predictions folder does not exist" in \
        last.failed[0].reason
    assert not (work / "leaderboard.md").exists() and last.text == "" and last.leaderboard is None

    # back to the folder of before: that failed restart may or may not have discarded the rows, so
    # the pair is computed from scratch again (never refused as "another run's work dir")
    suite["runs"] = [dict(label="theirs", predictions=dict(aim500=str(tmp_path / "pred2")))]
    back = run_suite(suite, work_dir=work, threads=1, report=False)
    assert (back.pairs[0].status, back.pairs[0].computed) == ("done", 4)
    assert back.pairs[0].restarted == "a restart of it did not finish"
