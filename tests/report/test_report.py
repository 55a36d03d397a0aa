"""matbench report: the page and its pictures from finished runs (a predictions-folder run and a
model run of one small AIM-500-layout set), pictures made by matbench eval's metric workers and
reused, what the runs recorded (and nothing else) read, changed files flagged, --out guarded,
intervals and paired comparisons, bad input, and the page in headless chromium (also with 20 runs,
6 extra metric columns and a 400-pixel-wide window)."""
import html
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import cv2
import numpy as np
import pytest
from PIL import Image

from matbench.errors import InputError, MatbenchError
from matbench.evaluation.metric import ImageMetric
from matbench.evaluation.options import make_job
from matbench.evaluation.run import evaluate
from matbench.registry import METRICS
from matbench.report import pictures_folder, write_report
from matbench.report.build import make_tasks
from matbench.report.gallery import (CROP_SIZE, RUN_PICTURES, THUMB_SIZE, ImageTask, RunSide, render_all,
                                     render_image, worst_window)
from matbench.report.page import anchors
from matbench.report.runs import load_runs

LABELS = {
    "a01": {"type": "SO", "category": "animal"},
    "b02": {"type": "STM", "category": "plant"},
    "c03": {"type": "SO", "category": "toy"},
    "d04": {"type": "NS", "category": "animal"},
    "e 05#x": {"type": "NS", "category": "fruit"},       # a name that must be escaped in URLs and ids
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of one set: a predictions folder and ClosedForm (predictions kept in WORK/predictions),
    and the folder's run again with the report (its metric workers make the pictures)."""
    from conftest import make_aim500, make_predictions

    base = tmp_path_factory.mktemp("report")
    # the long side (600) is above the thumbnail size: pictures are halved (300 x 100), crops 256 x 200
    root = make_aim500(base / "AIM-500", size=(200, 600), labels=LABELS)
    pred = make_predictions(root, base / "pred")
    common = dict(dataset="aim500", data_root=root, workers=0, metric_workers=0, report=False)
    evaluate(make_job(predictions=pred, work_dir=base / "folder", label="noisy", **common))
    evaluate(make_job(model="ClosedForm", work_dir=base / "model", **common))
    evaluate(make_job(predictions=pred, work_dir=base / "eval", label="noisy",
                      **{**common, "report": True, "metric_workers": 2}))
    return base


@pytest.fixture(scope="module")
def report(runs):
    return write_report([runs / "folder", runs / "model"], runs / "out" / "report.html")


class _Page(HTMLParser):
    """The gallery's items, pictures and links of a page."""

    def __init__(self, text):
        super().__init__()
        self.items, self.imgs, self.links, self.hidden, self.views = [], [], [], set(), []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self.items.append(attrs["id"])
            if "hidden" in attrs:
                self.hidden.add(attrs["id"])
        elif tag == "img":
            (self.views if "view" in (attrs.get("class") or "").split() else self.imgs).append(attrs["src"])
        elif tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])


def _results(work):
    return json.loads((work / "results.json").read_text())


def _sad(work):
    return {row["name"]: row["sad"] for row in _results(work)["per_image"]}


def _stem(page, name):
    """The picture prefix of image ``name`` (its position in the default order, 1-based)."""
    return f"{page.items.index(anchors([name])[name]) + 1:04d}"


def _copy_run(src, dst, **meta_changes):
    work = shutil.copytree(src, dst)
    data = _results(work)
    data["meta"].update(meta_changes)
    (work / "results.json").write_text(json.dumps(data))
    return work


# --------------------------------------------------------------------------- the page and its files

def test_page_and_pictures_are_self_contained(report, runs):
    text = report.read_text()
    page = _Page(text)
    folder = pictures_folder(report)
    assert folder.name == "report_files" and (folder / ".matbench-report").is_file()
    assert text.splitlines()[1] == "<!-- matbench report -->"
    assert len(page.items) == len(LABELS)
    # 2 pictures per photo (photo, trimap, ground truth) and 3 per run (prediction, error map, crop's error)
    assert len(page.imgs) == len(LABELS) * (3 + 3 * 2)
    for src in page.imgs:
        assert src.startswith("report_files/")
        path = report.parent / unquote(src)
        assert path.is_file(), src
        with Image.open(path) as img:
            assert max(img.size) <= THUMB_SIZE
            assert img.format == ("JPEG" if src.endswith(".jpg") else "PNG")
    assert all(s.endswith(".jpg") for s in page.imgs if "photo" in s or "error" in s or "crop" in s)
    # full-size views of the original files (photo, ground truth, A/B, each prediction): relative links
    assert len(page.views) == len(LABELS) * (4 + 2)
    assert all((report.parent / unquote(v)).is_file() for v in page.views)
    # no network: nothing fetched from elsewhere (SVG namespaces are names, not requests)
    assert not re.search(r"""(src|href)=["']?(https?:)?//|url\((https?:)?//|<link\b""", text)
    # the tables of `matbench leaderboard` and a plot per group, a distribution and the scatter
    assert "Table 1. Whole image" in text and "SAD per category" in text
    assert text.count("<svg") == 4


def test_gallery_is_worst_first_with_anchors_and_originals(report, runs):
    page = _Page(report.read_text())
    sad = _sad(runs / "folder")
    ids = anchors(sorted(sad, key=lambda n: -sad[n]))
    assert page.items == list(ids.values())
    assert ids["e 05#x"] == "img-e_05_x"
    linked = {unquote(h) for h in page.links if not h.startswith("#")}
    photo = runs / "AIM-500" / "original" / "a01.jpg"
    for original in (photo, runs / "AIM-500" / "mask" / "a01.png", runs / "AIM-500" / "trimap" / "a01.png"):
        assert str(Path("..") / original.relative_to(runs)) in linked
    # each scatter point links to its photo's item
    assert all(f'xlink:href="#{anchor}"' in report.read_text() for anchor in ids.values())


def test_shows_the_scored_predictions(runs, tmp_path):
    """The prediction pictures are made from the files the run scored (meta.predictions), not
    recomputed: a kept prediction that is overwritten shows its new content, with a warning."""
    model = shutil.copytree(runs / "model", tmp_path / "model")
    assert _results(model)["meta"]["predictions"] == "predictions"
    folder_run = _results(runs / "folder")["meta"]["predictions"]
    assert Path(folder_run) == (runs / "pred").resolve()

    out = write_report([runs / "folder", model], tmp_path / "r.html")
    page = _Page(out.read_text())
    linked = {unquote(h) for h in page.links}
    assert "model/predictions/b02.png" in linked                       # relative to the page
    assert any(h.endswith("pred/b02.png") for h in linked)
    thumb = pictures_folder(out) / f"{_stem(page, 'b02')}-r2-pred.jpg"
    scored = np.asarray(Image.open(model / "predictions" / "b02.png"))
    shown = np.asarray(Image.open(thumb), int)
    halved = cv2.resize(scored, shown.shape[::-1], interpolation=cv2.INTER_AREA).astype(int)   # 2x2 means
    assert shown.shape == (100, 300) and np.abs(shown - halved).mean() < 1.5        # (a JPEG of quality 92)
    assert "changed after this run was scored" not in out.read_text()

    Image.fromarray(np.full(scored.shape, 77, np.uint8)).save(model / "predictions" / "b02.png")
    later = (model / "results.json").stat().st_mtime + 60
    os.utime(model / "predictions" / "b02.png", (later, later))
    out = write_report([runs / "folder", model], tmp_path / "r.html")
    assert np.abs(np.asarray(Image.open(thumb), int) - 77).max() <= 1
    assert "1 prediction file(s) changed after this run was scored" in out.read_text()


def test_top_limits_the_gallery_to_the_worst(runs, tmp_path):
    out = write_report([runs / "model", runs / "folder"], tmp_path / "top.html", top=2)
    page = _Page(out.read_text())
    sad = _sad(runs / "model")
    assert page.items == list(anchors(sorted(sad, key=lambda n: -sad[n])[:2]).values())
    assert len(list(pictures_folder(out).glob("*-photo.jpg"))) == 2


def test_rewrite_replaces_the_pictures_folder(runs, tmp_path):
    out = write_report([runs / "folder"], tmp_path / "one.html")
    (pictures_folder(out) / "stale.jpg").write_bytes(b"")
    write_report([runs / "folder"], out)
    assert not (pictures_folder(out) / "stale.jpg").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []      # no staging left


# --------------------------------------------------------------------------- pictures

def _image_files(tmp_path, alpha, preds, trimap=None):
    h, w = alpha.shape
    Image.fromarray(np.full((h, w, 3), 90, np.uint8)).save(tmp_path / "photo.png")
    Image.fromarray(alpha).save(tmp_path / "alpha.png")
    if trimap is not None:
        Image.fromarray(trimap).save(tmp_path / "trimap.png")
    paths = []
    for k, pred in enumerate(preds):
        Image.fromarray(pred).save(tmp_path / f"pred{k}.png")
        paths.append(str(tmp_path / f"pred{k}.png"))
    (tmp_path / "out").mkdir()
    return ImageTask(stem="x", folder=str(tmp_path / "out"), photo=str(tmp_path / "photo.png"),
                     alpha=str(tmp_path / "alpha.png"), trimap=str(tmp_path / "trimap.png") if trimap is not None else None,
                     runs=[RunSide(prediction=p) for p in paths])


def test_error_maps_share_one_scale(tmp_path):
    """A perfect prediction's map is the colour of 0; the other run's largest error is the top of
    the scale; the crop of both is the worse run's region... of the first run (here: none), on 0..1."""
    from matbench.report.colormap import lut as colormap

    alpha = np.zeros((40, 50), np.uint8)
    alpha[10:30, 10:40] = 255
    worse = alpha.copy()
    worse[0:8, 0:8] = 255
    out = render_image(_image_files(tmp_path, alpha, [alpha, worse]))
    assert out["vmax"] == pytest.approx(1.0) and out["trimap"] is None
    lut = colormap().astype(int)
    perfect = np.asarray(Image.open(tmp_path / "out" / "x-r1-error.jpg"), int)
    worst = np.asarray(Image.open(tmp_path / "out" / "x-r2-error.jpg"), int)
    assert np.abs(perfect - lut[0]).max() <= 12                      # JPEG's error only
    assert np.abs(worst[2, 2] - lut[255]).max() <= 12
    assert np.abs(worst[20, 25] - lut[0]).max() <= 12
    # the crop: the whole (small) image, on the absolute scale; run 2's block is at full error
    assert out["window"] == [0, 0, 50, 40]
    crop = np.asarray(Image.open(tmp_path / "out" / "x-r2-crop.jpg"), int)
    assert np.abs(crop[3, 3] - lut[255]).max() <= 12 and np.abs(crop[20, 20] - lut[0]).max() <= 12


def test_worst_window_is_where_the_error_is():
    err = np.zeros((600, 900), np.uint8)
    err[400:460, 700:760] = 200
    err[10:20, 10:20] = 255                      # a smaller, stronger blob elsewhere
    x, y, w, h = worst_window(err)
    assert (w, h) == (CROP_SIZE, CROP_SIZE) and x <= 700 and x + w >= 760 and y <= 400 and y + h >= 460
    assert worst_window(np.zeros((100, 90), np.uint8)) == (0, 0, 90, 100)


def test_unknown_only_keeps_the_unknown_region(tmp_path):
    alpha = np.zeros((64, 64), np.uint8)
    alpha[:, 32:] = 255
    trimap = np.where(alpha == 255, 255, 0).astype(np.uint8)
    trimap[:, 28:36] = 128
    pred = alpha.copy()
    pred[0:16, 0:16] = 255                       # wrong, but in the known background
    pred[40:50, 28:36] = 128                     # wrong in the unknown band
    task = _image_files(tmp_path, alpha, [pred], trimap)
    task.unknown_only = True
    out = render_image(task)
    x, y, w, h = out["window"]
    crop = np.asarray(Image.open(tmp_path / "out" / "x-r1-crop.jpg").convert("L"), int)
    from matbench.report.colormap import lut as colormap
    dark = int(np.asarray(colormap()[0], int).mean())
    assert np.abs(crop[0:16, 0:16] - dark).max() <= 12                # known-region error left out
    assert crop[40:50, 30:34].mean() > dark + 40


def test_colour_map_and_run_colours():
    import matplotlib

    from matbench.report.colormap import lut
    from matbench.report.plots import run_colour

    expected = np.round(matplotlib.colormaps["inferno"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    assert np.array_equal(lut(), expected)
    assert len({run_colour(k) for k in range(25)}) == 25


def test_pictures_in_a_process_pool_equal_in_process(runs, tmp_path):
    loaded = load_runs([runs / "folder", runs / "model"])
    names = sorted(loaded[0].rows)
    results = []
    for processes, sub in ((0, "here"), (2, "pool")):
        (tmp_path / sub).mkdir()
        results.append(render_all(make_tasks(loaded, names, tmp_path / sub), processes=processes))
    assert results[0] == results[1]
    for path in (tmp_path / "here").iterdir():
        assert path.read_bytes() == (tmp_path / "pool" / path.name).read_bytes()


def test_eval_makes_the_pictures_in_its_workers(runs, tmp_path, monkeypatch):
    """matbench eval's metric workers make each image's pictures from the arrays they score; its
    report links them (no decoding), and they equal what a report makes from the files alone."""
    work = runs / "eval"
    kept = sorted((work / RUN_PICTURES).glob("*.json"))
    assert len(kept) == len(LABELS)
    page = _Page((work / "report.html").read_text())
    assert len(page.items) == len(LABELS)
    for src in page.imgs:
        assert os.stat(work / unquote(src)).st_nlink >= 2                # a link to a kept picture

    # the same report from the files alone: identical pictures (one run: same scale, same window)
    alone = shutil.copytree(work, tmp_path / "alone")
    shutil.rmtree(alone / RUN_PICTURES)
    monkeypatch.setenv("MATBENCH_CACHE", str(tmp_path / "empty-cache"))
    out = write_report([alone], tmp_path / "alone.html")
    made = pictures_folder(out)
    assert sorted(p.name for p in made.iterdir()) == sorted(p.name for p in (work / "report_files").iterdir())
    for path in made.iterdir():
        assert path.read_bytes() == (work / "report_files" / path.name).read_bytes(), path.name

    # a rerun on the same files finds its pictures made: nothing is written again but the report
    before = {p.name: p.stat().st_mtime_ns for p in (work / RUN_PICTURES).iterdir()}
    page_before = (work / "report.html").stat().st_mtime_ns
    evaluate(make_job(dataset="aim500", data_root=runs / "AIM-500", predictions=runs / "pred", work_dir=work,
                      label="noisy", workers=0, metric_workers=2, report=True, restart=True))
    assert {p.name: p.stat().st_mtime_ns for p in (work / RUN_PICTURES).iterdir()} == before
    assert (work / "report.html").stat().st_mtime_ns > page_before


def test_new_predictions_replace_the_kept_pictures(runs, tmp_path, capsys):
    """A work dir evaluated again with changed predictions keeps only the pictures of what it scores."""
    pred = shutil.copytree(runs / "pred", tmp_path / "pred")
    job = dict(dataset="aim500", data_root=runs / "AIM-500", predictions=pred, work_dir=tmp_path / "w", workers=0,
               metric_workers=0, report=True)
    evaluate(make_job(**job))
    first = {p.name for p in (tmp_path / "w" / RUN_PICTURES).glob("*.json")}
    arr = np.asarray(Image.open(pred / "b02.png")).copy()
    Image.fromarray(255 - arr).save(pred / "b02.png")
    evaluate(make_job(**job, restart=True))
    now = {p.name for p in (tmp_path / "w" / RUN_PICTURES).glob("*.json")}
    assert len(now) == len(LABELS) and len(now - first) == 1 and len(list((tmp_path / "w" / RUN_PICTURES).iterdir())) \
        == 5 * len(LABELS)
    assert "no report written" not in capsys.readouterr().err


def test_multi_run_report_reuses_kept_pictures(runs, tmp_path):
    """With kept pictures of both runs, the shared scale re-colours them; the crops follow the first
    run's window, made from the files where the second run's window differs."""
    other = tmp_path / "pred2"
    shutil.copytree(runs / "pred", other)
    for path in other.glob("*.png"):
        arr = np.asarray(Image.open(path)).copy()
        arr[:20, :20] = 255 - arr[:20, :20]
        Image.fromarray(arr).save(path)
    evaluate(make_job(dataset="aim500", data_root=runs / "AIM-500", predictions=other, work_dir=tmp_path / "w2",
                      label="blotched", workers=0, metric_workers=0, report=True))
    out = write_report([runs / "eval", tmp_path / "w2"], tmp_path / "both.html")
    page = _Page(out.read_text())
    assert len(page.imgs) == len(LABELS) * (3 + 3 * 2)
    assert all((out.parent / unquote(s)).is_file() for s in page.imgs)


# --------------------------------------------------------------------------- what the runs recorded

def test_reads_only_what_the_run_recorded(runs, tmp_path):
    """A results file's dataset options are never used to find files (no dataset plugin is built);
    a recorded path outside the run's declared folders is refused."""
    moved = _copy_run(runs / "folder", tmp_path / "odd", dataset={
        **_results(runs / "folder")["meta"]["dataset"],
        "config": {"type": "no-such-dataset", "data_root": "/etc", "trimap_cache": str(tmp_path / "written")}})
    out = write_report([moved], tmp_path / "odd.html")
    assert len(_Page(out.read_text()).items) == len(LABELS) and not (tmp_path / "written").exists()

    forged = shutil.copytree(runs / "folder", tmp_path / "forged")
    journal = forged / "per_image.jsonl"
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    rows[0]["_inputs"]["files"]["alpha"][0] = "/etc/passwd"
    journal.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputError, match="lies outside its dataset folder") as err:
        write_report([forged], tmp_path / "forged.html")
    assert "/etc/passwd" in str(err.value) and "\n" not in str(err.value)


def test_changed_files_are_flagged_by_content(runs, tmp_path):
    """A ground truth and a prediction changed with their modification times kept are flagged
    (their recorded content hashes differ), and shown as they are now."""
    from conftest import make_aim500

    root = make_aim500(tmp_path / "AIM-500", size=(200, 600), labels=LABELS)
    pred = shutil.copytree(runs / "pred", tmp_path / "pred")
    evaluate(make_job(dataset="aim500", data_root=root, predictions=pred, work_dir=tmp_path / "w", workers=0,
                      metric_workers=0))
    for path, value in ((root / "mask" / "a01.png", 0), (pred / "c03.png", 200)):
        st = path.stat()
        arr = np.asarray(Image.open(path)).copy()
        arr[:4, :4] = value if arr[0, 0] != value else 255 - value
        Image.fromarray(arr).save(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))             # the same date: only the content says
    text = write_report([tmp_path / "w"], tmp_path / "r.html").read_text()
    assert "1 prediction file(s) changed after this run was scored" in text
    assert "1 ground-truth file(s) changed after this run was scored" in text
    assert text.count("the ground truth changed since it was scored") == 1
    assert text.count("the prediction changed since it was scored") == 1


def test_runs_of_different_variants_are_refused(runs, tmp_path):
    other = _copy_run(runs / "model", tmp_path / "dim", variant="dim")
    with pytest.raises(MatbenchError, match="different metric variants cannot share a report"):
        write_report([runs / "folder", other], tmp_path / "r.html")


# --------------------------------------------------------------------------- --out

def test_out_never_overwrites_a_users_file(runs, tmp_path):
    cases = [
        (runs / "AIM-500" / "original" / "a01.jpg", "give a file name ending in .html"),
        (runs / "folder" / "results.json", "give a file name ending in .html"),
        (runs / "pred" / "a01.png", "give a file name ending in .html"),
        (runs / "pred" / "page.html", "inside the predictions folder"),
        (runs / "AIM-500" / "notes.html", "inside the dataset folder"),
        (runs / "folder" / "report_pictures" / "r.html", "inside report_pictures/ of the work dir"),
    ]
    mine = tmp_path / "mine.html"
    mine.write_text("<html>my notes</html>")
    cases.append((mine, "is not a page matbench wrote as a report"))
    for out, message in cases:
        before = out.read_bytes() if out.is_file() else None
        with pytest.raises(InputError, match=re.escape(message)):
            write_report([runs / "folder"], out)
        assert (out.read_bytes() if out.is_file() else None) == before
        assert not pictures_folder(out).exists()
    # a page whose pictures folder would be a folder matbench did not write
    (runs / "pred_files").mkdir()
    try:
        with pytest.raises(InputError, match="not written by matbench report"):
            write_report([runs / "folder"], runs / "pred.html")
    finally:
        (runs / "pred_files").rmdir()
    # a report over its own earlier page is fine
    out = write_report([runs / "folder"], tmp_path / "again.html")
    write_report([runs / "folder"], out)


# --------------------------------------------------------------------------- statistics

def test_intervals_and_paired_comparison(report, runs):
    from matbench.stats import compare_to_baseline

    text = report.read_text()
    assert re.search(r"<td class=\"num\" title=\"95 % interval: [-0-9.]+ to [-0-9.]+\">\d+\.\d+ ± \d+\.\d+</td>", text)
    assert "Each run against #1 noisy" in text
    rows = [{r["name"]: r for r in _results(w)["per_image"]} for w in (runs / "folder", runs / "model")]
    paired, mark = compare_to_baseline(rows, 0, ["sad"], set())[(1, "sad")]
    assert f"{paired.wins} / {paired.ties} / {paired.losses}" in text
    assert f"{paired.mean_diff:+.3f}" in text


def test_labels_are_plain_text(runs, tmp_path):
    """A label with mathtext markup is shown as typed; equal labels are told apart by number."""
    odd = _copy_run(runs / "model", tmp_path / "odd", label="$x_1$ \\frac{a")
    same = _copy_run(runs / "model", tmp_path / "same", label="noisy")
    text = write_report([runs / "folder", odd, same], tmp_path / "r.html").read_text()
    assert "#2 $x_1$ \\frac{a" in text and "#1 noisy" in text and "#3 noisy" in text


# --------------------------------------------------------------------------- bad input

def test_bad_input_is_one_line(runs, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no results.json: not a finished evaluation run"):
        write_report([tmp_path / "empty"], tmp_path / "r.html")
    with pytest.raises(InputError, match="work dir not found"):
        write_report([tmp_path / "nowhere"], tmp_path / "r.html")
    with pytest.raises(MatbenchError, match="no runs given"):
        write_report([], tmp_path / "r.html")
    with pytest.raises(InputError, match="given twice"):
        write_report([runs / "folder", runs / "folder" / "results.json"], tmp_path / "r.html")
    with pytest.raises(MatbenchError, match="--top 0"):
        write_report([runs / "folder"], tmp_path / "r.html", top=0)
    (tmp_path / "dir.html").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        write_report([runs / "folder"], tmp_path / "dir.html")

    other = _copy_run(runs / "model", tmp_path / "other",
                      dataset={**_results(runs / "model")["meta"]["dataset"], "name": "otherset"})
    with pytest.raises(MatbenchError, match="different datasets cannot share a report") as err:
        write_report([runs / "folder", other], tmp_path / "r.html")
    assert "\n" not in str(err.value)

    kept_none = _copy_run(runs / "model", tmp_path / "nokept", predictions=None)
    with pytest.raises(InputError, match="kept no predictions"):
        write_report([kept_none], tmp_path / "r.html")

    gone = shutil.copytree(runs / "model", tmp_path / "gone")
    (gone / "predictions" / "c03.png").unlink()
    with pytest.raises(InputError, match=r"c03\.png: prediction missing"):
        write_report([gone], tmp_path / "r.html")

    no_journal = shutil.copytree(runs / "folder", tmp_path / "nojournal")
    (no_journal / "per_image.jsonl").unlink()
    with pytest.raises(InputError, match="records no files"):
        write_report([no_journal], tmp_path / "r.html")

    foreign = tmp_path / "mine_files"
    foreign.mkdir()
    with pytest.raises(InputError, match="not written by matbench report"):
        write_report([runs / "folder"], tmp_path / "mine.html")


def _cli(*args):
    return subprocess.run([sys.executable, "-c", "from matbench.cli import main; main()", "report", *args],
                          capture_output=True, text=True, timeout=300)


def test_cli_report_and_its_errors(runs, tmp_path):
    done = _cli(str(runs / "folder"), str(runs / "model"), "--out", str(tmp_path / "cli.html"), "--top", "3",
                "--unknown-only")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "cli.html").read_text()
    assert len(_Page(text).items) == 3 and "in the trimap's unknown region only" in text
    failed = _cli(str(tmp_path))
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [f"matbench: error: {tmp_path}: no results.json: not a finished "
                                                  "evaluation run (run matbench eval first)"]
    photo = runs / "AIM-500" / "original" / "a01.jpg"
    failed = _cli(str(runs / "folder"), "--out", str(photo))
    assert failed.returncode == 2 and len(failed.stderr.strip().splitlines()) == 1
    assert failed.stderr.startswith("matbench: error: ") and "Traceback" not in failed.stderr


def test_demo_runs_make_a_report(tmp_path):
    work = tmp_path / "demo"
    run = [sys.executable, "-c", "from matbench.cli import main; main()"]
    demo = subprocess.run(run + ["demo", "--work-dir", str(work)], capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stderr[-2000:]
    done = subprocess.run(run + ["report", str(work / "closedform"), str(work / "knn"), "--out",
                                 str(work / "report.html")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    page = _Page((work / "report.html").read_text())
    assert len(page.items) == _results(work / "closedform")["meta"]["dataset"]["num_images"]


# --------------------------------------------------------------------------- in a browser

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0"]


def chromium(page, tmp_path, *args, fragment=""):
    """Run headless chromium on ``page`` (file://); returns (stdout, stderr). CI installs chromium."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is needed for the browser tests (apt-get install chromium; .ci/run installs it)"
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    done = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri() + fragment],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def _console(stderr):
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def test_page_loads_in_a_browser_without_errors(report, tmp_path):
    dom, log = chromium(report, tmp_path, "--dump-dom")
    assert _console(log) == []
    body = re.search(r"<body([^>]*)>", dom).group(1)
    loaded, total = map(int, re.search(r'data-images-loaded="(\d+)/(\d+)"', body).groups())
    page = _Page(report.read_text())
    assert total == len(page.imgs) + len(page.views)
    assert loaded >= len(page.imgs) and 'data-images-broken="0"' in body     # closed "look closer": not yet loaded
    assert 'data-js="ready"' in body


def test_sorting_and_filtering_from_the_address(report, runs, tmp_path):
    def order(fragment):
        dom, log = chromium(report, tmp_path, "--dump-dom", fragment=fragment)
        assert _console(log) == []
        page = _Page(dom)
        return [i for i in page.items if i not in page.hidden]

    folder, model = _sad(runs / "folder"), _sad(runs / "model")
    ids = anchors(list(folder))
    by = lambda key: [ids[n] for n in sorted(folder, key=key)]          # noqa: E731
    assert order("") == by(lambda n: -folder[n])                        # worst first by default
    assert order("#sort=sad&run=1&order=asc") == by(lambda n: folder[n])
    assert order("#sort=sad&run=2-1&order=desc") == by(lambda n: -(model[n] - folder[n]))
    grad = {row["name"]: row["grad"] for row in _results(runs / "model")["per_image"]}
    assert order("#sort=grad&run=2") == by(lambda n: -grad[n])
    only_ns = order("#type=NS")
    assert only_ns == [i for i in by(lambda n: -folder[n]) if LABELS[next(n for n in ids if ids[n] == i)]["type"] == "NS"]


def test_screenshot_is_not_blank(report, tmp_path):
    shot = tmp_path / "shot.png"
    chromium(report, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    with Image.open(shot) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 200


class WideMetric(ImageMetric):
    """A metric plugin with many columns, one of them better when higher (for the layout test)."""

    variant = "wide-test"
    title = "wide test metrics"
    keys = ("sad", "mse", "x1", "x2", "x3", "x4", "x5", "psnr")
    columns = (("sad", "SAD", 2), ("mse", "MSE", 4), ("x1", "Extra error one (x 10^-3)", 3),
               ("x2", "Extra error two (x 10^-3)", 3), ("x3", "Extra error three", 3), ("x4", "Extra error four", 3),
               ("x5", "Extra error five", 3), ("psnr", "PSNR of the matte (dB)", 2))
    higher_is_better = ("psnr",)
    uses_trimap = False

    @staticmethod
    def compute_image(pred, alpha, trimap, **extras):
        diff = np.abs(pred - alpha)
        mse = float((diff ** 2).mean())
        return {"sad": float(diff.sum() / 1000), "mse": mse, **{f"x{k}": float(diff.mean() * k) for k in range(1, 6)},
                "psnr": float(10 * np.log10(1 / max(mse, 1e-10)))}


MEASURE = """
<script>
window.addEventListener("load", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  document.querySelectorAll("img[loading=lazy]").forEach(function (i) { i.loading = "eager"; });
  var range = document.querySelector(".ab-range"), b = document.querySelector("img.ab-b");
  var before = b.style.clipPath;
  range.value = 20;
  range.dispatchEvent(new Event("input", {bubbles: true}));
  var after = b.style.clipPath;
  setTimeout(function () {
    var vw = document.documentElement.clientWidth, wide = [];
    document.querySelectorAll("body *").forEach(function (el) {
      var box = el.parentElement && el.parentElement.closest(".scroll");
      if (box || (el.closest("svg") && el.tagName.toLowerCase() !== "svg")) { return; }
      var r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > vw + 1 || r.left < -1)) {
        wide.push(el.tagName + "." + el.className + " " + Math.round(r.left) + ".." + Math.round(r.right));
      }
    });
    var imgs = Array.prototype.slice.call(document.images);
    var result = {
      vw: vw, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 10),
      colours: Array.prototype.map.call(document.querySelectorAll("tr.run"), function (t) { return t.getAttribute("data-colour"); }),
      before: before, after: after,
      crops: document.querySelectorAll("img.crop-error").length,
      views: document.querySelectorAll("img.view").length,
      broken: imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.src; }).slice(0, 5),
      intervals: document.querySelectorAll("table.board td[title]").length,
      pairwise: document.querySelectorAll("table.pairwise tbody tr").length,
      metricsScroll: document.querySelector("table.metrics").parentElement.className
    };
    parent.postMessage(JSON.stringify(result), "*");
  }, 3000);
});
</script>
"""


@pytest.fixture(scope="module")
def wide_report(runs, tmp_path_factory):
    """20 runs (two with one label, one with mathtext markup) of a metric plugin with 8 columns."""
    from conftest import make_predictions

    METRICS.register_module(module=WideMetric, name="wide-test", force=True)
    try:
        base = tmp_path_factory.mktemp("wide")
        work_dirs = []
        for k in range(20):
            pred = make_predictions(runs / "AIM-500", base / f"pred{k}", seed=10 + k)
            label = "same" if k in (3, 4) else "$x_1$ run" if k == 5 else f"method {k + 1}"
            evaluate(make_job(dataset="aim500", data_root=runs / "AIM-500", predictions=pred, work_dir=base / f"w{k}",
                              label=label, variant="wide-test", workers=0, metric_workers=0))
            work_dirs.append(base / f"w{k}")
        return write_report(work_dirs, base / "wide.html")
    finally:
        METRICS._module_dict.pop("wide-test", None)


#: the page in a frame 400 pixels wide (headless chromium's windows are at least 500), its measure shown here
FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="probe.html" style="width:400px;height:900px;border:0"></iframe><pre id="measure"></pre>
<script>addEventListener("message", function (e) { document.getElementById("measure").textContent = e.data; });</script>
</body></html>"""


def test_twenty_runs_wide_tables_at_400_pixels(wide_report, tmp_path):
    text = wide_report.read_text()
    (wide_report.parent / "probe.html").write_text(text.replace("</body>", MEASURE + "</body>"))
    frame = wide_report.parent / "frame.html"
    frame.write_text(FRAME)
    dom, log = chromium(frame, tmp_path, "--dump-dom", "--window-size=800,1000", "--virtual-time-budget=20000")
    assert _console(log) == []
    result = json.loads(html.unescape(re.search(r'<pre id="measure">(.*?)</pre>', dom, re.S).group(1)))
    assert result["vw"] <= 400
    assert result["wide"] == [] and result["scrollWidth"] <= result["vw"]     # nothing wider than the window
    assert len(result["colours"]) == 20 and len(set(result["colours"])) == 20
    assert result["after"] != result["before"] and "20%" in result["after"]    # the slider moved
    assert result["crops"] == 20 * len(LABELS) and result["views"] == (4 + 20) * len(LABELS)
    assert result["broken"] == []
    assert result["intervals"] >= 20 * 8 and result["pairwise"] == 19 * 8
    assert result["metricsScroll"] == "scroll"
    # labels: numbered everywhere, mathtext shown as typed, the higher-is-better metric sorts ascending
    assert "#4 same" in text and "#5 same" in text and "#6 $x_1$ run" in text
    assert '"psnr": "asc"' in text and '"sad": "desc"' in text


def test_a_kept_prediction_changed_with_its_date_kept_is_flagged(runs, tmp_path):
    """A model's kept prediction is recorded by content when journalled ("kept"): replacing it
    and restoring its modification time is still flagged."""
    model = shutil.copytree(runs / "model", tmp_path / "model")
    kept = model / "predictions" / "b02.png"
    st = kept.stat()
    Image.fromarray(np.full(np.asarray(Image.open(kept)).shape, 77, np.uint8)).save(kept)
    os.utime(kept, ns=(st.st_atime_ns, st.st_mtime_ns))
    text = write_report([model], tmp_path / "r.html").read_text()
    assert "1 prediction file(s) changed after this run was scored" in text
