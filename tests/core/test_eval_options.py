"""`matbench eval` refuses bad options and unusable work dirs before any work, in one line."""
import errno
import os

import pytest

from matbench.errors import InputError, MatbenchError
from matbench.evaluation.journal import Journal, prepare_work_dir
from matbench.evaluation.options import make_job
from matbench.evaluation.run import evaluate

from test_cli_errors import assert_one_line_error, run_eval


def _args(root, pred, work):
    return ["--dataset", "aim500", "--data-root", root, "--predictions", pred, "--work-dir", work]


@pytest.mark.parametrize("option, needle", [
    (["--format", "bogus"], "'--format': 'bogus' is not one of 'md', 'latex', 'csv', 'html'"),
    (["--metric-workers", "-3"], "--metric-workers -3"),
    (["--workers", "-1"], "--workers -1"),
    (["--launcher", "slurmm"], "'--launcher': 'slurmm' is not one of 'none', 'pytorch'"),
])
def test_bad_options_refused_before_work(tiny_aim500, tiny_predictions, tmp_path, option, needle):
    work = tmp_path / "w"
    proc = run_eval(*_args(tiny_aim500, tiny_predictions, work), *option)
    assert_one_line_error(proc, needle)
    assert not work.exists()


def test_work_dir_that_is_a_file(tiny_aim500, tiny_predictions, tmp_path):
    work = tmp_path / "w"
    work.write_text("")
    assert_one_line_error(run_eval(*_args(tiny_aim500, tiny_predictions, work)), str(work), "is a file")


@pytest.mark.parametrize("code, needle", [(errno.EROFS, "read-only"), (errno.ENOSPC, "no space left")])
def test_unwritable_work_dir(tmp_path, monkeypatch, code, needle):
    # root ignores permissions, so the file system's refusal is simulated
    def refuse(self, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("pathlib.Path.write_bytes", refuse)
    with pytest.raises(InputError, match=needle):
        prepare_work_dir(tmp_path / "w")


def test_disk_full_while_journalling(tiny_aim500, tiny_predictions, tmp_path, monkeypatch):
    fsync = os.fsync

    def full_for_journal(fd):          # the disk fills up after run.json was written
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".jsonl"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", full_for_journal)
    job = make_job(dataset="aim500", data_root=tiny_aim500, predictions=tiny_predictions,
                   work_dir=tmp_path / "w", workers=0, metric_workers=0)
    with pytest.raises(InputError, match="per_image.jsonl: cannot write: no space left"):
        evaluate(job)
    with pytest.raises(MatbenchError):
        Journal(tmp_path / "w").append({"name": "x", "sad": 1.0})
