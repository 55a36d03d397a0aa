"""The `matbench` command line: commands parse their options and delegate."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Literal, Optional


def _repair_package() -> None:
    """``python -m matbench.cli`` started in the folder that holds a checkout named ``matbench``:
    Python takes that folder for the package (a namespace package without ``__init__``), so its
    ``plugins/`` folder would be imported as ``matbench.plugins``. This module itself comes from
    the installed package; point the package at it and run its ``__init__``."""
    package = sys.modules.get(__package__ or "matbench")
    here = Path(__file__).resolve().parent
    if package is None or getattr(package, "__file__", None) is not None:
        return
    stray = [name for name in sys.modules if name.startswith(f"{package.__name__}.") and name != __name__]
    if stray:
        sys.exit(f"matbench: error: the folder {os.getcwd()}/matbench (a matbench checkout) hides the installed "
                 "package here; run matbench from another folder")
    package.__path__[:] = [str(here)]
    package.__file__ = str(here / "__init__.py")
    exec(compile((here / "__init__.py").read_text(), package.__file__, "exec"), package.__dict__)


_repair_package()

import typer  # noqa: E402

from .errors import Interrupted, MatbenchError  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
                  help="matbench: benchmark natural image matting methods, exactly as their papers scored them.")

#: the choices of options with a fixed set of values (shown in --help, checked by the parser)
Format = Literal["md", "latex", "csv", "html"]
Amp = Literal["fp16", "bf16"]
Launcher = Literal["none", "pytorch"]


def _version(value: bool) -> None:
    if value:
        from . import DISTRIBUTION, __version__

        typer.echo(f"matbench {__version__} ({DISTRIBUTION})")
        raise typer.Exit()


@app.callback()
def _main_options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                               help="show the version and exit")) -> None:
    """matbench: benchmark natural image matting methods, exactly as their papers scored them."""

INTERRUPTED_MESSAGE = ("matbench: interrupted; what was finished is kept "
                       "(eval, bench: run the same command to resume; train: add --resume)")
_MAIN_PID = os.getpid()


@app.command("list")
def list_plugins(kind: Optional[Literal["models", "datasets", "strategies", "metrics", "references", "training",
                                         "transforms"]] = typer.Argument(None, metavar="KIND", help=(
        "models, datasets, strategies, metrics or references (what you choose from); training (losses, training "
        "models and datasets, transforms) or transforms"))) -> None:
    """What you can choose from, and the package each comes from."""
    from rich.console import Console
    from rich.table import Table

    from .plugins import registered

    table = Table("kind", "name", "what", "package")
    for info in registered(kind):
        if kind is not None or info.kind != "training":
            table.add_row(info.kind, info.name, info.what, info.package)
    Console().print(table)


@app.command("eval")
def eval_command(
    dataset: Optional[str] = typer.Option(None, metavar="NAME", help="dataset plugin (matbench list datasets; default: embedded)"),
    data_root: Optional[Path] = typer.Option(None, metavar="DIR", help="dataset folder"),
    dataset_option: List[str] = typer.Option([], "--dataset-option", metavar="KEY=VALUE", help="an option of the dataset plugin (repeatable)"),
    predictions: Optional[Path] = typer.Option(None, metavar="DIR", help="folder of predicted alpha PNGs <name>.png"),
    model: Optional[str] = typer.Option(None, metavar="NAME", help="model plugin (a trimap-based method or a network)"),
    model_option: List[str] = typer.Option([], "--model-option", metavar="KEY=VALUE", help="an option of the model plugin (repeatable)"),
    config: Optional[Path] = typer.Option(None, metavar="FILE", help="mmengine config with model / strategy / load_from"),
    checkpoint: Optional[Path] = typer.Option(None, metavar="FILE|DIR", help="network weights (.pth, .safetensors; a folder or "
                                                         ".onnx file for models that load their own)"),
    strategy: Optional[str] = typer.Option(None, metavar="NAME", help="inference strategy plugin for networks"),
    strategy_option: List[str] = typer.Option([], "--strategy-option", metavar="KEY=VALUE", help="an option of the strategy (repeatable)"),
    random_weights: bool = typer.Option(False, "--random-weights", help="smoke test a network without weights (marked in results)"),
    metric_variant: Optional[str] = typer.Option(None, metavar="NAME", help="metric variant (default: the dataset's convention; "
                                                                "matbench list metrics)"),
    work_dir: Optional[Path] = typer.Option(None, metavar="DIR", help="where results.json and the journal go"),
    label: Optional[str] = typer.Option(None, metavar="TEXT", help="name of this run in tables"),
    threads: Optional[int] = typer.Option(None, metavar="N", help="CPU threads in all, shared by torch, data loading and metric "
                                                     "processes (default: the CPUs this process may use)"),
    workers: Optional[int] = typer.Option(None, metavar="N", help="data loading processes of a model's run (default: from "
                                                     "--threads; --predictions: the metric processes read the files)"),
    metric_workers: Optional[int] = typer.Option(None, metavar="N", help="metric processes (0: in the main process; default: "
                                                            "from --threads)"),
    device: Optional[str] = typer.Option(None, metavar="cpu|cuda[:N]", help="cpu or cuda (default: cuda when available)"),
    amp: Optional[Amp] = typer.Option(None, help="run the network under autocast"),
    channels_last: bool = typer.Option(False, "--channels-last", help="channels-last memory layout for the network"),
    launcher: Launcher = typer.Option("none", help="pytorch under torchrun"),
    restart: bool = typer.Option(False, "--restart", help="discard finished images in the work dir and start over"),
    fmt: Format = typer.Option("md", "--format", help="table format"),
    save_predictions: bool = typer.Option(True, "--save-predictions/--no-save-predictions", help="keep a model's predictions in WORK/predictions/"),
    report: bool = typer.Option(True, "--report/--no-report", help="write WORK/report.html (matbench report) next to the results"),
) -> None:
    """Score predictions or a model on a dataset.

    Writes WORK/results.json (every image's values), keeps a journal a killed run resumes from,
    writes WORK/report.html and prints the paper-style tables."""
    from .results import evaluate

    results = evaluate(dataset=dataset, data_root=data_root, dataset_options=dataset_option, predictions=predictions,
                       model=model, config=config, checkpoint=checkpoint, strategy=strategy,
                       strategy_options=strategy_option, random_weights=random_weights, metric_variant=metric_variant,
                       work_dir=work_dir, label=label, workers=workers, metric_workers=metric_workers,
                       launcher=launcher, restart=restart, device=device, amp=amp, channels_last=channels_last,
                       save_predictions=save_predictions, report=report, model_options=model_option, threads=threads)
    if results is not None:
        typer.echo(results.table(fmt))
        typer.echo(f"results: {results.path}")


@app.command("predict")
def predict_command(
    inputs: List[Path] = typer.Argument(..., help="images or folders of images"),
    out: Path = typer.Option(Path("predictions"), metavar="DIR", help="output folder: <stem>.png, 8-bit alpha of the input's size"),
    model: Optional[str] = typer.Option(None, metavar="NAME", help="model plugin (default: the plugin that declares itself the default network)"),
    model_option: List[str] = typer.Option([], "--model-option", metavar="KEY=VALUE", help="an option of the model plugin (repeatable)"),
    trimap: List[Path] = typer.Option([], "--trimap", metavar="FILE|DIR", help="trimap files or folders, matched to the images by "
                                                          "name (trimap-based models)"),
    config: Optional[Path] = typer.Option(None, metavar="FILE", help="mmengine config with model / strategy / load_from"),
    checkpoint: Optional[Path] = typer.Option(None, metavar="FILE|DIR", help="network weights (.pth, .safetensors; a folder or "
                                                         ".onnx file for models that load their own)"),
    strategy: Optional[str] = typer.Option(None, metavar="NAME", help="inference strategy (default: the network's default_strategy)"),
    strategy_option: List[str] = typer.Option([], "--strategy-option", metavar="KEY=VALUE", help="an option of the strategy (repeatable)"),
    random_weights: bool = typer.Option(False, "--random-weights", help="smoke test without weights"),
    device: Optional[str] = typer.Option(None, metavar="cpu|cuda[:N]", help="cpu or cuda (default: cuda when available)"),
    amp: Optional[Amp] = typer.Option(None, help="autocast"),
    channels_last: bool = typer.Option(False, "--channels-last", help="channels-last memory layout"),
    cutout: bool = typer.Option(False, "--cutout", help="also write OUT/cutout/<stem>.png (RGBA)"),
    composite: Optional[str] = typer.Option(None, metavar="COLOUR", help="also write the photo composited on this colour, in OUT/composite/"),
    save_trimap: bool = typer.Option(False, "--save-trimap", help="also write the global trimap OUT/trimap/<stem>.png"),
    threads: Optional[int] = typer.Option(None, metavar="N", help="torch's CPU threads (default: the CPUs this process may use)"),
) -> None:
    """Alpha mattes for photos.

    A network through its inference strategy (by default its official test procedure), or a
    trimap-based model given the photos' trimaps (--trimap)."""
    from .evaluation.options import make_predict_job, resolve_device
    from .predict import run_predict

    job = make_predict_job(inputs=inputs, out=out, model=model, config=config, checkpoint=checkpoint,
                           strategy=strategy, strategy_options=strategy_option, random_weights=random_weights,
                           device=resolve_device(device), amp=amp, channels_last=channels_last, cutout=cutout,
                           composite=composite, save_trimap=save_trimap, trimaps=trimap,
                           model_options=model_option, threads=threads)
    written = run_predict(job)
    typer.echo(f"wrote {len(written)} file{'' if len(written) == 1 else 's'} to {out}")


@app.command("train")
def train_command(
    config: Path = typer.Argument(..., help="an mmengine training config (configs/*.py)"),
    work_dir: Optional[Path] = typer.Option(None, metavar="DIR", help="checkpoints and logs (default: work_dirs/<config name>)"),
    resume: bool = typer.Option(False, "--resume", help="continue from the work dir's last checkpoint"),
    amp: Optional[Amp] = typer.Option(None, help="mixed precision"),
    channels_last: bool = typer.Option(False, "--channels-last", help="channels-last memory layout for the model and its inputs"),
    cfg_options: List[str] = typer.Option([], "--cfg-options", metavar="KEY=VALUE", help="an override of the config (repeatable)"),
    more_options: Optional[List[str]] = typer.Argument(None, metavar="[KEY=VALUE...]",
                                                       help="more overrides: --cfg-options a=1 b=2 works as in mmengine"),
    launcher: Launcher = typer.Option("none", help="pytorch under torchrun (tools/dist_train.sh)"),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="also log to TensorBoard"),
    threads: Optional[int] = typer.Option(None, metavar="N", help="CPU threads in all: torch gets those the training data "
                                                     "loaders leave (default: the CPUs this process may use)"),
) -> None:
    """Train a model from an mmengine config (mmengine's Runner)."""
    from .training.run import train

    out = train(config, work_dir=work_dir, resume=resume, amp=amp, channels_last=channels_last, cfg_options=[*cfg_options, *(more_options or [])],
                launcher=launcher, tensorboard=tensorboard, threads=threads)
    typer.echo(f"checkpoints and logs: {out}")


@app.command("leaderboard", short_help="Paper-style tables from results files.", help=(
    "Paper-style tables from results files: one set per dataset and metric variant, every number recomputed "
    "from the files' per-image rows. LaTeX compiles with \\usepackage{booktabs} (and amssymb with --baseline). "
    "--out overwrites only a matbench leaderboard of the same format: Markdown and LaTeX files carry a first "
    "line '<!-- matbench leaderboard -->' or '% matbench leaderboard', HTML pages that comment under the "
    "doctype, CSV files matbench's header row."))
def leaderboard_command(
    results: Optional[List[Path]] = typer.Argument(None, help="results.json files (or work dirs)"),
    fmt: Format = typer.Option("md", "--format", help="table format"),
    paper: bool = typer.Option(False, "--paper", help="shorthand for --reference aim-readme (the rows of the paper matbench started from)"),
    reference: List[str] = typer.Option([], "--reference", metavar="NAME", help="add a reference source's published rows "
                                                                  "(matbench list references); a run whose model "
                                                                  "published one of them is shown under it"),
    pivot: Optional[str] = typer.Option(None, metavar="METRIC", help="one table of this metric (any case: sad, SAD): a row per run, "
                                                   "a column per dataset"),
    ci: bool = typer.Option(False, "--ci", help="each mean gets ± half the width of its 95 % bootstrap interval "
                                                "(CSV: <column>_ci95_lo / _hi columns)"),
    baseline: Optional[str] = typer.Option(None, metavar="LABEL", help="a run's label: mark each other run of its dataset and variant "
                                                      "significantly better ▲ / worse ▼ per column (paired Wilcoxon, "
                                                      "Holm, α = 0.05; CSV: <column>_vs_baseline, _p_wilcoxon)"),
    columns: Optional[str] = typer.Option(None, metavar="KEY,...", help="choose and order columns: metric or group keys, e.g. "
                                                     "sad,mse,grad,type"),
    scale_mse: bool = typer.Option(False, "--scale-mse", help="show MSE and MAD ×10³, headed MSE (×10⁻³) "
                                                              "(md, latex, html; CSV keeps results units)"),
    best: bool = typer.Option(True, "--best/--no-best", help="best / second-best value of each column in bold / "
                                                            "underlined, by the metric's direction (md, latex, html)"),
    trust_summary: bool = typer.Option(False, "--trust-summary", help="accept results files without per-image "
                                                                      "rows: show their stored summary as it is "
                                                                      "(noted; no interval, not compared)"),
    out: Optional[Path] = typer.Option(None, metavar="FILE", help="also write the tables to this file; only a new file, an empty "
                                                  "one or an earlier matbench leaderboard of the same format is "
                                                  "overwritten, never an input, a run's files or data"),
) -> None:
    """Paper-style tables from results files: one set per dataset and metric variant."""
    from .leaderboard import check_out, load_results, render, write

    if not results and not (paper or reference):
        raise MatbenchError("give results files, or --reference NAME / --paper to see published rows")
    loaded = load_results(results) if results else []
    if out is not None:
        check_out(out, fmt, loaded)
    text = render(loaded, fmt, paper=paper, references=reference, pivot=pivot, ci=ci, baseline=baseline,
                  columns=columns, scale_mse=scale_mse, best=best, trust_summary=trust_summary)
    typer.echo(text)
    if out is not None:
        write(text, out, fmt)


@app.command("report")
def report_command(
    work_dirs: List[Path] = typer.Argument(..., help="work dirs of finished matbench eval runs (one dataset, "
                                                     "one metric variant)"),
    out: Optional[Path] = typer.Option(None, metavar="FILE", help="the HTML page (default: WORK/report.html for one run, "
                                                  "else report.html here); its pictures go to <stem>_files/. "
                                                  "Never replaces a file matbench did not write as a report"),
    top: Optional[int] = typer.Option(None, metavar="N", help="the gallery shows only the N worst images (by the first run's "
                                                 "first metric, in its direction)"),
    unknown_only: bool = typer.Option(False, "--unknown-only", help="error maps and the worst region of the trimap's unknown "
                                                  "region only"),
) -> None:
    """A visual HTML report of finished runs.

    Tables with intervals, paired comparisons, plots, and a gallery of photos, predictions, error
    maps and full-size crops of each photo's worst region."""
    from .report import write_report

    default = work_dirs[0] / "report.html" if len(work_dirs) == 1 else Path("report.html")
    typer.echo(f"report: {write_report(work_dirs, out or default, top, unknown_only=unknown_only)}")


@app.command("bench")
def bench_command(
    suite: Path = typer.Argument(..., help="a suite: an mmengine config listing datasets and runs "
                                           "(configs/suites/*.py; format: matbench/suite/__init__.py)"),
    work_dir: Optional[Path] = typer.Option(None, metavar="DIR", help="where the pairs, tables and reports go (default: the "
                                                       "suite's work_dir, else work_dirs/suites/<suite name>)"),
    threads: Optional[int] = typer.Option(None, metavar="N", help="CPU threads of each evaluation (pairs run one after the "
                                                     "other; default: the CPUs this process may use)"),
    fmt: Format = typer.Option("md", "--format", help="table format of what is printed and written to "
                                                      "WORK/leaderboard.<ext>"),
    pivot: str = typer.Option("sad", metavar="METRIC", help="the metric of the table across datasets"),
    ci: bool = typer.Option(False, "--ci", help="95 % bootstrap intervals in the tables"),
    restart: bool = typer.Option(False, "--restart", help="discard every pair's finished images and compute all again"),
    report: bool = typer.Option(True, "--report/--no-report", help="write WORK/<dataset>/report.html for each dataset"),
    device: Optional[str] = typer.Option(None, metavar="cpu|cuda[:N]", help="cpu or cuda for networks (default: cuda when available)"),
) -> None:
    """Run a benchmark suite: every run on every dataset (resumable; a failed pair does not stop the
    others), then the tables across datasets and one report per dataset."""
    from .suite import run_suite

    out = run_suite(suite, work_dir=work_dir, threads=threads, fmt=fmt, pivot=pivot, ci=ci, restart=restart,
                    report=report, device=device)
    if out.text:
        typer.echo(out.text)
    for what, path in [("tables", out.leaderboard), *[(f"report ({k})", p) for k, p in out.reports.items()],
                       ("record", out.record)]:
        if path is not None:
            typer.echo(f"{what}: {path}")
    if out.failed:
        typer.echo(f"matbench: error: {len(out.failed)} of {len(out.pairs)} pairs failed "
                   f"(the others are kept; run the same command again after fixing them):", err=True)
        for pair in out.failed:
            typer.echo(f"matbench: error: {pair.name}: {pair.reason}", err=True)
        raise typer.Exit(2)


@app.command("warmup")
def warmup_command() -> None:
    """Compile the metric kernels now, once per installation.

    Otherwise the first evaluation compiles them (about 40 s on 2 cores)."""
    from .kernels import warm_all

    for line in warm_all():
        typer.echo(line)


@app.command("demo")
def demo_command(
    work_dir: Path = typer.Option(Path("work_dirs/demo"), metavar="DIR", help="where the runs and tables go"),
    models: List[str] = typer.Option([], "--model", metavar="NAME", help="trimap-based methods to compare "
                                                          "(default: those their plugins mark for the demo)"),
) -> None:
    """The quickstart: classical methods on the embedded set.

    Evaluates them with the official AIM metrics, prints the leaderboard, writes the report."""
    from .quickstart import run_demo

    typer.echo(run_demo(work_dir, models))


#: the signal being turned into :class:`Interrupted` (a second one while it unwinds is not raised again)
_interrupting: list[int] = []
#: how long a signal that landed where an exception would be swallowed waits before trying again
_RETRY_S = 0.05


def _unsafe_frame(frame) -> bool:
    """Whether an exception raised in ``frame`` would be swallowed ("Exception ignored in ...")
    instead of stopping the run: inside logging's locks (held around every fork), an at-fork or
    weakref callback, a destructor, or the interpreter's import machinery."""
    import logging

    swallowing = {"__del__", "_acquireLock", "_releaseLock", "_after_at_fork_child_reinit_locks",
                  "_at_fork_reinit", "_remove"}
    logging_file = os.path.realpath(logging.__file__)
    while frame is not None:
        code = frame.f_code
        if code.co_name in swallowing or os.path.realpath(code.co_filename) == logging_file \
                or code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _raise_interrupted(signum: int, frame) -> None:
    """SIGINT / SIGTERM: stop the main process through :class:`Interrupted`, raised only where it
    cannot be swallowed (elsewhere it is retried 50 ms later by a timer); a repeated signal while
    the first unwinds is not raised again. Child processes forked after this was installed (data
    loaders, metric workers) leave stopping to the main process."""
    import signal

    if os.getpid() != _MAIN_PID:
        return
    if _interrupting and signum != signal.SIGALRM:
        return
    if signum != signal.SIGALRM:
        _interrupting.append(signum)
    if _unsafe_frame(frame):
        signal.setitimer(signal.ITIMER_REAL, _RETRY_S)
        return
    raise Interrupted(_interrupting[0])


def _peer_failure(exc: Exception) -> str | None:
    """Under torchrun, a collective that fails because another process stopped (its own error is
    printed by that process) is one line, not a traceback per process."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return None
    detail = (str(exc).splitlines() or [""])[0][:200]
    return f"rank {dist.get_rank()} stopped: {type(exc).__name__}: {detail} (see the other processes' errors)"


def _disk_problem(exc: OSError) -> str | None:
    """A full, read-only or forbidden place to write, wherever it happened: one line naming the
    file (None for other errors, which are bugs)."""
    import errno

    if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
        return None
    from .evaluation.journal import write_problem

    where = exc.filename or "matbench"
    return f"{where}: {write_problem(exc)}"


def main() -> None:
    """Entry point: one-line errors for user mistakes, resumable interruption."""
    global _MAIN_PID
    import signal
    import warnings

    from .errors import MatbenchWarning

    show_warning = warnings.showwarning

    def one_line_warning(message, category, *args, **kwargs) -> None:
        # about the user's files or plugins, not a line of matbench: no source location
        if issubclass(category, MatbenchWarning):
            typer.echo(f"matbench: warning: {message}", err=True)
        else:
            show_warning(message, category, *args, **kwargs)

    warnings.showwarning = one_line_warning

    from .threads import quiet_waiting

    quiet_waiting()                 # before any command starts torch's thread pool
    _MAIN_PID = os.getpid()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(signum, _raise_interrupted)
    try:
        code = app(standalone_mode=False)
    except MatbenchError as exc:
        typer.echo(f"matbench: error: {exc}", err=True)
        sys.exit(2)
    except (Interrupted, KeyboardInterrupt) as exc:
        # data-loader workers the same signal ended complain from destructors: noise by now
        sys.unraisablehook = lambda unraisable: None
        # a second Ctrl-C while the process winds down: ignored (the interpreter's finalisation
        # would put back the default handler, which kills without the exit code that says "resume")
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        typer.echo(INTERRUPTED_MESSAGE, err=True)
        sys.exit(128 + getattr(exc, "signum", signal.SIGINT))
    except (typer.Exit, typer.Abort) as exc:
        sys.exit(getattr(exc, "exit_code", 1))
    except OSError as exc:
        problem = _disk_problem(exc)
        if problem is None:
            raise
        typer.echo(f"matbench: error: {problem}", err=True)
        sys.exit(2)
    except Exception as exc:  # usage errors of typer's (vendored) click: one line too
        if callable(getattr(exc, "format_message", None)) and isinstance(getattr(exc, "exit_code", None), int):
            message = " ".join(exc.format_message().replace("Value error, ", "").split())
            command = getattr(getattr(exc, "ctx", None), "command_path", "matbench")
            typer.echo(f"matbench: error: {message} (see {command} -h)", err=True)
            sys.exit(exc.exit_code)
        peer = _peer_failure(exc)
        if peer:
            typer.echo(f"matbench: error: {peer}", err=True)
            sys.exit(1)
        raise
    if code == 130:        # typer turned a KeyboardInterrupt into a returned exit code
        typer.echo(INTERRUPTED_MESSAGE, err=True)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
