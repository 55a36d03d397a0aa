"""Cases from a hostile campaign against `matbench eval / predict / leaderboard`: each one was a
traceback, a silently wrong number or lost work before it was fixed."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from matbench.errors import InputError, MatbenchError
from matbench.evaluation.journal import Journal, work_dir_lock
from matbench.evaluation.options import make_job
from matbench.evaluation.run import evaluate

from test_cli_errors import assert_one_line_error, run_eval


def _args(root, pred, work):
    return ["--dataset", "aim500", "--data-root", root, "--predictions", pred, "--work-dir", work]


@pytest.mark.parametrize("option, needles", [
    (["--dataset-option", "imge_dir=x"], ["unknown option 'imge_dir'", "did you mean 'image_dir'"]),
    (["--strategy-option", "local_ratio=0.5"], ["--strategy-option", "only for a model"]),
])
def test_misspelt_or_misplaced_options(tiny_aim500, tiny_predictions, tmp_path, option, needles):
    assert_one_line_error(run_eval(*_args(tiny_aim500, tiny_predictions, tmp_path / "w"), *option), *needles)


@pytest.mark.parametrize("option, needle", [
    ("local_ratoi=0.3333", "did you mean 'local_ratio'"),
    ("local_ratio=abc", "should be a number"),
])
def test_strategy_options_checked_against_the_constructor(tiny_aim500, tmp_path, option, needle):
    proc = run_eval("--dataset", "aim500", "--data-root", tiny_aim500, "--strategy", "hybrid", "--random-weights",
                    "--strategy-option", option, "--work-dir", tmp_path / "w")
    assert_one_line_error(proc, "hybrid", needle)


def test_torn_journal_line_does_not_swallow_the_next_row(tiny_aim500, tiny_predictions, tmp_path, capsys):
    work = tmp_path / "w"
    job = dict(dataset="aim500", data_root=tiny_aim500, predictions=tiny_predictions, work_dir=work,
               workers=0, metric_workers=0, report=False)
    full = evaluate(make_job(**job))
    journal = work / "per_image.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:3]) + lines[3][:40] + b"\xff\xfe junk")     # killed mid-line
    (work / "results.json").unlink()
    again = evaluate(make_job(**job))
    assert again["per_image"] == full["per_image"]
    assert "1 unreadable journal line" in capsys.readouterr().err
    rows = Journal(work).finished()
    assert len(rows) == 4                  # the recomputed row was journalled on a line of its own


def test_second_run_into_a_busy_work_dir_is_refused(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    job = make_job(dataset="aim500", data_root=tiny_aim500, predictions=tiny_predictions, work_dir=work,
                   workers=0, metric_workers=0, report=False, restart=True)
    with work_dir_lock(work):
        with pytest.raises(MatbenchError, match="another matbench run"):
            evaluate(job)
    assert len(evaluate(job)["per_image"]) == 4          # free again once the first run ended


def test_labels_with_a_duplicate_key_are_refused(tiny_aim500, tiny_predictions, tmp_path):
    labels = tiny_aim500 / "aim_category_type.json"
    text = labels.read_text()
    labels.write_text(text[:-1] + ', "a01": {"type": "NS", "category": "toy"}}')
    proc = run_eval(*_args(tiny_aim500, tiny_predictions, tmp_path / "w"))
    assert_one_line_error(proc, "aim_category_type.json", "'a01' appears twice")


def test_32_bit_integer_prediction_is_refused(tiny_aim500, tiny_predictions, tmp_path):
    pred = tiny_predictions / "a01.png"
    values = np.asarray(Image.open(pred)).astype(np.int32)
    Image.fromarray(values, mode="I").save(pred, format="TIFF")          # a TIFF named .png
    proc = run_eval(*_args(tiny_aim500, tiny_predictions, tmp_path / "w"))
    assert proc.returncode == 2 and "32-bit integer TIFF" in proc.stderr and "Traceback" not in proc.stderr


def test_huge_declared_size_is_one_line_without_pillow_warnings(tiny_aim500, tiny_predictions, tmp_path):
    Image.new("L", (13000, 13000)).save(tiny_predictions / "a01.png")
    proc = run_eval(*_args(tiny_aim500, tiny_predictions, tmp_path / "w"))
    assert_one_line_error(proc, "a01.png", "size 13000x13000")


def test_work_dir_name_too_long(tiny_aim500, tiny_predictions, tmp_path):
    proc = run_eval(*_args(tiny_aim500, tiny_predictions, tmp_path / ("w" * 300)))
    assert_one_line_error(proc, "work dir unusable")


def test_leaderboard_refuses_infinity(tmp_path):
    from matbench.leaderboard import load_results

    work = tmp_path / "r.json"
    work.write_text('{"meta": {"variant": "aim"}, "per_image": [], "summary": {"count": 0, '
                    '"metrics": {"sad": Infinity}}}')
    with pytest.raises(InputError, match="summary.metrics.sad: expected a number, got inf"):
        load_results([work])


def test_predict_out_that_is_a_file_is_refused_before_inference(tmp_path):
    import subprocess
    import sys

    photo = tmp_path / "p.jpg"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(photo)
    out = tmp_path / "out"
    out.write_text("")
    proc = subprocess.run([sys.executable, "-m", "matbench.cli", "predict", str(photo), "--random-weights",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert_one_line_error(proc, str(out), "not a folder")


def test_png_whose_data_ends_early_is_refused(tiny_aim500, tiny_predictions, tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    width, height = 52, 40                      # a complete zlib stream holding one row of 40
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00" + bytes([200]) * width)) + chunk(b"IEND", b""))
    (tiny_predictions / "a01.png").write_bytes(png)
    proc = run_eval(*_args(tiny_aim500, tiny_predictions, tmp_path / "w"))
    assert_one_line_error(proc, "a01.png", "ends after 1 of 40 rows")
    # a complete PNG whose last row is black still reads
    from matbench.io import read_prediction

    Image.fromarray(np.zeros((40, 52), np.uint8)).save(tmp_path / "black.png")
    assert read_prediction(tmp_path / "black.png").sum() == 0
