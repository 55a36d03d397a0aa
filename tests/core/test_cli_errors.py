"""Bad input through `matbench eval`: one line naming the file, exit code != 0, no traceback,
and rows finished before the problem kept in the journal."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

NAN_MODEL = textwrap.dedent("""
    import sys
    import numpy as np
    from matbench.models import TrimapMattingModel
    from matbench.registry import MODELS

    @MODELS.register_module()
    class NaNMaker(TrimapMattingModel):
        def predict(self, image, trimap):
            out = trimap / 255.0
            out[0, 0] = np.nan
            return out

    from matbench.cli import main
    sys.argv = ["matbench"] + sys.argv[1:]
    main()
""")


def run_eval(*args, script=None):
    cmd = [sys.executable, "-c", script] if script else [sys.executable, "-m", "matbench.cli"]
    proc = subprocess.run(cmd + ["eval", "--workers", "0", "--metric-workers", "0", *map(str, args)],
                          capture_output=True, text=True, timeout=300)
    return proc


def assert_one_line_error(proc, *needles):
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("matbench: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _eval_args(root, pred, work):
    return ["--dataset", "aim500", "--data-root", root, "--predictions", pred, "--work-dir", work]


def test_missing_prediction(tiny_aim500, tiny_predictions, tmp_path):
    (tiny_predictions / "c03.png").unlink()
    assert_one_line_error(run_eval(*_eval_args(tiny_aim500, tiny_predictions, tmp_path / "w")),
                          "c03.png", "missing")


def test_extra_prediction(tiny_aim500, tiny_predictions, tmp_path):
    Image.fromarray(np.zeros((40, 52), np.uint8)).save(tiny_predictions / "zz99.png")
    assert_one_line_error(run_eval(*_eval_args(tiny_aim500, tiny_predictions, tmp_path / "w")),
                          "zz99.png", "no ground truth")


def test_truncated_prediction_keeps_finished_rows(tiny_aim500, tiny_predictions, tmp_path):
    data = (tiny_predictions / "c03.png").read_bytes()
    (tiny_predictions / "c03.png").write_bytes(data[: len(data) // 2])
    work = tmp_path / "w"
    assert_one_line_error(run_eval(*_eval_args(tiny_aim500, tiny_predictions, work)), "c03.png")
    rows = [json.loads(l) for l in (work / "per_image.jsonl").read_text().splitlines()]
    assert [r["name"] for r in rows] == ["a01", "b02"]


def test_truncated_ground_truth(tiny_aim500, tiny_predictions, tmp_path):
    path = tiny_aim500 / "mask" / "b02.png"
    path.write_bytes(path.read_bytes()[:60])
    assert_one_line_error(run_eval(*_eval_args(tiny_aim500, tiny_predictions, tmp_path / "w")), "b02.png")


def test_truncated_photo_with_a_model(tiny_aim500, tmp_path):
    path = tiny_aim500 / "original" / "a01.jpg"
    path.write_bytes(path.read_bytes()[:200])
    proc = run_eval("--dataset", "aim500", "--data-root", tiny_aim500, "--model", "ClosedForm",
                    "--work-dir", tmp_path / "w")
    assert_one_line_error(proc, "a01.jpg")


def test_size_mismatch(tiny_aim500, tiny_predictions, tmp_path):
    Image.fromarray(np.zeros((41, 52), np.uint8)).save(tiny_predictions / "b02.png")
    assert_one_line_error(run_eval(*_eval_args(tiny_aim500, tiny_predictions, tmp_path / "w")), "b02.png", "size")


def test_rgb_prediction_with_differing_channels(tiny_aim500, tiny_predictions, tmp_path):
    rgb = np.zeros((40, 52, 3), np.uint8)
    rgb[..., 1] = 200
    Image.fromarray(rgb).save(tiny_predictions / "a01.png")
    assert_one_line_error(run_eval(*_eval_args(tiny_aim500, tiny_predictions, tmp_path / "w")), "a01.png")


def test_grey_rgb_and_16bit_predictions_are_converted(tiny_aim500, tiny_predictions, tmp_path):
    base = run_eval(*_eval_args(tiny_aim500, tiny_predictions, tmp_path / "w8"))
    assert base.returncode == 0, base.stderr
    p8 = np.asarray(Image.open(tiny_predictions / "a01.png"))
    Image.fromarray(np.repeat(p8[..., None], 3, axis=2)).save(tiny_predictions / "a01.png")
    Image.fromarray((np.asarray(Image.open(tiny_predictions / "b02.png")).astype(np.uint16) * 257)).save(
        tiny_predictions / "b02.png")
    other = run_eval(*_eval_args(tiny_aim500, tiny_predictions, tmp_path / "w16"))
    assert other.returncode == 0, other.stderr
    rows8 = json.loads((tmp_path / "w8" / "results.json").read_text())["per_image"]
    rows16 = json.loads((tmp_path / "w16" / "results.json").read_text())["per_image"]
    assert rows8 == rows16


def test_bad_trimap_values(tiny_aim500, tiny_predictions, tmp_path):
    path = tiny_aim500 / "trimap" / "d04.png"
    t = np.asarray(Image.open(path)).copy()
    t[0, :5] = 127
    Image.fromarray(t).save(path)
    assert_one_line_error(run_eval(*_eval_args(tiny_aim500, tiny_predictions, tmp_path / "w")), "d04.png", "127")


def test_nan_in_model_output(tiny_aim500, tmp_path):
    proc = run_eval("--dataset", "aim500", "--data-root", tiny_aim500, "--model", "NaNMaker",
                    "--work-dir", tmp_path / "w", script=NAN_MODEL)
    assert_one_line_error(proc, "a01.jpg", "NaN")


def test_empty_dataset(tmp_path):
    for sub in ("original", "mask", "trimap"):
        (tmp_path / "empty" / sub).mkdir(parents=True)
    proc = run_eval("--dataset", "aim500", "--data-root", tmp_path / "empty", "--predictions", tmp_path,
                    "--work-dir", tmp_path / "w")
    assert_one_line_error(proc, "empty")


def test_labels_missing_stems(tiny_aim500, tiny_predictions, tmp_path):
    labels = json.loads((tiny_aim500 / "aim_category_type.json").read_text())
    del labels["c03"]
    (tiny_aim500 / "aim_category_type.json").write_text(json.dumps(labels))
    assert_one_line_error(run_eval(*_eval_args(tiny_aim500, tiny_predictions, tmp_path / "w")),
                          "aim_category_type.json", "c03")


@pytest.mark.parametrize("option, value, suggestion", [
    ("--dataset", "aim50", "aim500"),
    ("--metric-variant", "dimm", "dim"),
    ("--model", "ClosedFrom", "ClosedForm"),
])
def test_unknown_plugin_names_suggest(option, value, suggestion, tiny_aim500, tmp_path):
    args = ["--data-root", tiny_aim500, "--work-dir", tmp_path / "w", option, value]
    if option != "--model":
        args += ["--model", "ClosedForm"]
    assert_one_line_error(run_eval(*args), value, f"did you mean '{suggestion}'")
