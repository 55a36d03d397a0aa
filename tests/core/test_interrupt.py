"""Interrupting `matbench eval`: Ctrl-C and SIGTERM end it in seconds with a message and exit
code 128 + signal, keeping the journal; a killed run leaves no metric worker behind."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SLOW_CLI = textwrap.dedent("""
    import sys, time
    from matbench.models import TrimapMattingModel
    from matbench.registry import MODELS

    @MODELS.register_module()
    class SlowTrimap(TrimapMattingModel):
        def predict(self, image, trimap):
            time.sleep(0.3)
            return trimap / 255.0

    from matbench.cli import main
    sys.argv = ["matbench"] + sys.argv[1:]
    main()
""")


@pytest.fixture
def slow_run(tmp_path):
    """Start a slow evaluation (2 metric workers) and wait until it has journalled 2 images."""
    from conftest import make_aim500

    labels = {f"img{i:02d}": {"type": "SO", "category": "toy"} for i in range(40)}
    root = make_aim500(tmp_path / "data", labels=labels)
    script = tmp_path / "slow.py"
    script.write_text(SLOW_CLI)
    work = tmp_path / "w"
    cmd = [sys.executable, str(script), "eval", "--dataset", "aim500", "--data-root", str(root),
           "--model", "SlowTrimap", "--work-dir", str(work), "--workers", "0", "--metric-workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    journal = work / "per_image.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 2):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    yield proc, work, cmd
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)


def _children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:          # a zombie is dead, only not yet reaped
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("target, signum", [("process", signal.SIGINT), ("group", signal.SIGINT),
                                            ("process", signal.SIGTERM), ("group", signal.SIGTERM)])
def test_interrupt_exits_with_message_and_keeps_journal(slow_run, target, signum):
    proc, work, cmd = slow_run
    if target == "group":
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=30)          # a hang fails here
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert "interrupted" in err and "resume" in err
    assert not (work / "results.json").exists()
    finished = len((work / "per_image.jsonl").read_text().splitlines())
    assert finished >= 2
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((work / "results.json").read_text())
    assert len(results["per_image"]) == 40 and results["meta"]["resumed_images"] >= finished


def test_metric_workers_die_with_a_killed_parent(slow_run):
    proc, work, _ = slow_run
    workers = _children(proc.pid)
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.time() + 20
    while time.time() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers)


SLOW_METRIC_CLI = textwrap.dedent("""
    import os, sys, time
    from matbench.api import METRICS, ImageMetric

    SCORED = [0]

    @METRICS.register_module(name="slow-sad")
    class SlowSad(ImageMetric):
        variant = "slow-sad"
        keys = ("sad",)

        @staticmethod
        def compute_image(pred, alpha, trimap):
            if pred.size > 64:                   # not the workers' warm-up image
                SCORED[0] += 1
                time.sleep(0.15)
                if SCORED[0] == int(os.environ.get("DIE_AFTER", "0")):
                    os._exit(3)                  # as the OOM killer or a plugin's os._exit would end it
            return {"sad": float(abs(pred - alpha).sum() / 1000)}

    from matbench.cli import main
    sys.argv = ["matbench"] + sys.argv[1:]
    main()
""")


@pytest.fixture
def folder_run(tmp_path):
    """A predictions folder of 60 images scored by a slow metric variant (2 metric workers)."""
    from conftest import make_aim500, make_predictions

    labels = {f"img{i:02d}": {"type": "SO", "category": "toy"} for i in range(60)}
    root = make_aim500(tmp_path / "data", labels=labels)
    pred = make_predictions(root, tmp_path / "pred")
    script = tmp_path / "slow_metric.py"
    script.write_text(SLOW_METRIC_CLI)
    work = tmp_path / "w"
    cmd = [sys.executable, str(script), "eval", "--dataset", "aim500", "--data-root", str(root), "--predictions",
           str(pred), "--metric-variant", "slow-sad", "--work-dir", str(work), "--metric-workers", "2", "--no-report"]
    return cmd, work


def test_sigterm_to_the_process_group_ends_a_predictions_run(folder_run):
    """What timeout, Slurm and docker stop do: every process of the group gets SIGTERM (the metric
    workers die at once; the parent must neither wait for them nor deadlock stopping them)."""
    cmd, work = folder_run
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    journal = work / "per_image.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 4):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + signal.SIGTERM and "interrupted" in err and "Traceback" not in err, err


def test_a_metric_process_that_dies_is_an_error_not_a_hang(folder_run):
    cmd, work = folder_run
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "DIE_AFTER": "3"})
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "metric process" in lines[0] and "exit code 3" in lines[0], proc.stderr
    assert "resume" in lines[0]
    kept = len((work / "per_image.jsonl").read_text().splitlines())
    assert kept >= 2
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads((work / "results.json").read_text())["meta"]["resumed_images"] == kept


DEFERRED = textwrap.dedent("""
    import logging, os, signal, sys, time
    import matbench.cli as cli
    from matbench.errors import Interrupted

    cli._MAIN_PID = os.getpid()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(signum, cli._raise_interrupted)
    # code that runs as if it were logging's own (its lock functions run around every fork: an
    # exception raised there is printed as "Exception ignored" and the run goes on)
    inside_logging = compile("os.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(100000): pass\\n"
                             "os.kill(os.getpid(), signal.SIGINT)\\n", logging.__file__, "exec")
    try:
        exec(inside_logging, {"os": os, "signal": signal})
        print("left the logging code", flush=True)
        time.sleep(5)
        print("never interrupted")
    except Interrupted as exc:
        print("interrupted by", exc.signum)
""")


def test_a_signal_inside_logging_code_is_raised_after_it(tmp_path):
    script = tmp_path / "deferred.py"
    script.write_text(DEFERRED)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split("\n")[:2] == ["left the logging code", f"interrupted by {int(signal.SIGINT)}"], \
        proc.stdout + proc.stderr
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr


def test_two_interrupts_50_ms_apart(slow_run):
    proc, work, _ = slow_run
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "Exception ignored" not in err and "Traceback" not in err, err
    assert err.count("interrupted") == 1


def test_a_killed_data_loader_worker_is_one_line(tmp_path):
    """The OOM killer ending a DataLoader worker of a model's run: torch's RuntimeError was a traceback."""
    from conftest import make_aim500

    labels = {f"img{i:02d}": {"type": "SO", "category": "toy"} for i in range(40)}
    root = make_aim500(tmp_path / "data", labels=labels)
    script = tmp_path / "slow.py"
    script.write_text(SLOW_CLI)
    work = tmp_path / "w"
    cmd = [sys.executable, str(script), "eval", "--dataset", "aim500", "--data-root", str(root),
           "--model", "SlowTrimap", "--work-dir", str(work), "--workers", "2", "--metric-workers", "0", "--no-report"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    journal = work / "per_image.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 2):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    loaders = _children(proc.pid)
    assert loaders
    for pid in loaders:
        os.kill(pid, signal.SIGKILL)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert len(lines) == 1 and "data-loading process" in lines[0] and "resume" in lines[0], err
