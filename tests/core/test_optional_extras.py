"""Models whose library is an optional extra: without it, every other command works and the
model itself is a one-line error that names the extra (simulated by hiding the library)."""
import subprocess
import sys

import pytest

HIDE = "import sys; sys.modules[{lib!r}] = None; from matbench.cli import main; sys.argv = {argv!r}; main()"


@pytest.mark.parametrize("model, lib, extra", [("ViTMatte", "transformers", "vitmatte"),
                                               ("onnx", "onnxruntime", "onnx")])
def test_missing_extra_is_one_line_and_harms_nothing_else(tmp_path, model, lib, extra):
    def run(*argv):
        code = HIDE.format(lib=lib, argv=["matbench", *map(str, argv)])
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=None)

    listed = run("list", "models")
    assert listed.returncode == 0 and model in listed.stdout, listed.stderr
    photo = tmp_path / "p.png"
    photo.write_bytes(b"")
    res = run("predict", photo, "--model", model, "--checkpoint", tmp_path, "--out", tmp_path / "o")
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip() == (f"matbench: error: model '{model}' needs the {extra} extra: "
                                  f"pip install 'matbench-matting[{extra}]'")
