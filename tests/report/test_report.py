"""matbench report: the page and its pictures from finished runs (a predictions-folder run and a
model run of one small AIM-500-layout set), bad input, and the page in headless chromium."""
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
from matbench.evaluation.options import make_job
from matbench.evaluation.run import evaluate
from matbench.report import pictures_folder, write_report
from matbench.report.gallery import THUMB_SIZE, ThumbnailTask, colormap_lut, render_all, render_image
from matbench.report.page import anchors

LABELS = {
    "a01": {"type": "SO", "category": "animal"},
    "b02": {"type": "STM", "category": "plant"},
    "c03": {"type": "SO", "category": "toy"},
    "d04": {"type": "NS", "category": "animal"},
    "e 05#x": {"type": "NS", "category": "fruit"},       # a name that must be escaped in URLs and ids
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of one set: a predictions folder and ClosedForm (predictions kept in WORK/predictions)."""
    from conftest import make_aim500, make_predictions

    base = tmp_path_factory.mktemp("report")
    # the long side (420) is above the thumbnail size, so pictures are downscaled
    root = make_aim500(base / "AIM-500", size=(120, 420), labels=LABELS)
    pred = make_predictions(root, base / "pred")
    common = dict(dataset="aim500", data_root=root, workers=0, metric_workers=0, report=False)
    evaluate(make_job(predictions=pred, work_dir=base / "folder", label="noisy", **common))
    evaluate(make_job(model="ClosedForm", work_dir=base / "model", **common))
    return base


@pytest.fixture(scope="module")
def report(runs):
    return write_report([runs / "folder", runs / "model"], runs / "out" / "report.html")


class _Page(HTMLParser):
    """The gallery's items, pictures and links of a page."""

    def __init__(self, text):
        super().__init__()
        self.items, self.imgs, self.links, self.hidden = [], [], [], set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self.items.append(attrs["id"])
            if "hidden" in attrs:
                self.hidden.add(attrs["id"])
        elif tag == "img":
            self.imgs.append(attrs["src"])
        elif tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])


def _results(work):
    return json.loads((work / "results.json").read_text())


def _sad(work):
    return {row["name"]: row["sad"] for row in _results(work)["per_image"]}


# --------------------------------------------------------------------------- the page and its files

def test_page_and_pictures_are_self_contained(report, runs):
    text = report.read_text()
    page = _Page(text)
    folder = pictures_folder(report)
    assert folder.name == "report_files" and (folder / ".matbench-report").is_file()
    assert len(page.items) == len(LABELS)
    # 3 pictures per photo (photo, trimap, ground truth) and 2 per run (prediction, error map)
    assert len(page.imgs) == len(LABELS) * (3 + 2 * 2)
    for src in page.imgs:
        assert src.startswith("report_files/")
        path = report.parent / unquote(src)
        assert path.is_file(), src
        with Image.open(path) as img:
            assert max(img.size) <= THUMB_SIZE
            assert img.format == ("JPEG" if src.endswith((".jpg",)) else "PNG")
    assert all(s.endswith(".jpg") for s in page.imgs if "photo" in s or "error" in s)
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
    thumb = pictures_folder(out) / f"{_stem(page, 'b02')}-r2-pred.png"
    scored = Image.open(model / "predictions" / "b02.png")
    expected = cv2.resize(np.asarray(scored), Image.open(thumb).size, interpolation=cv2.INTER_AREA)
    assert np.array_equal(np.asarray(Image.open(thumb)), expected)
    assert "changed after this run was scored" not in out.read_text()

    Image.fromarray(np.full(scored.size[::-1], 77, np.uint8)).save(model / "predictions" / "b02.png")
    later = (model / "results.json").stat().st_mtime + 60
    os.utime(model / "predictions" / "b02.png", (later, later))
    out = write_report([runs / "folder", model], tmp_path / "r.html")
    assert set(np.unique(np.asarray(Image.open(thumb)))) == {77}
    assert "1 prediction file(s) changed after this run was scored" in out.read_text()


def _stem(page, name):
    """The picture prefix of image ``name`` (its position in the default order, 1-based)."""
    return f"{page.items.index(anchors([name])[name]) + 1:04d}"


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


def test_error_maps_share_one_scale(tmp_path):
    """A perfect prediction's map is the colour of 0; the other run's largest error is the top of the scale."""
    alpha = np.zeros((40, 50), np.uint8)
    alpha[10:30, 10:40] = 255
    Image.fromarray(np.full((40, 50, 3), 90, np.uint8)).save(tmp_path / "photo.png")
    Image.fromarray(alpha).save(tmp_path / "alpha.png")
    worse = alpha.copy()
    worse[0:8, 0:8] = 255
    Image.fromarray(worse).save(tmp_path / "worse.png")
    task = ThumbnailTask(stem="x", photo=str(tmp_path / "photo.png"), alpha=str(tmp_path / "alpha.png"), trimap=None,
                         predictions=[str(tmp_path / "alpha.png"), str(tmp_path / "worse.png")],
                         folder=str(tmp_path), lut=colormap_lut().tobytes())
    out = render_image(task)
    assert out["vmax"] == pytest.approx(1.0) and out["trimap"] is None
    lut = colormap_lut().astype(int)
    perfect = np.asarray(Image.open(tmp_path / "x-r1-error.jpg"), int)
    worst = np.asarray(Image.open(tmp_path / "x-r2-error.jpg"), int)
    assert np.abs(perfect - lut[0]).max() <= 12                      # JPEG's error only
    assert np.abs(worst[2, 2] - lut[255]).max() <= 12
    assert np.abs(worst[20, 25] - lut[0]).max() <= 12


def test_pictures_in_a_process_pool_equal_in_process(runs, tmp_path):
    from matbench.report.runs import image_files, load_runs
    from matbench.report.gallery import make_tasks

    run = load_runs([runs / "folder"])[0]
    files = image_files(run)
    names = sorted(files)
    results = []
    for processes, sub in ((0, "here"), (2, "pool")):
        (tmp_path / sub).mkdir()
        tasks = make_tasks([files[n] for n in names], [[run.prediction(n)] for n in names], tmp_path / sub)
        results.append(render_all(tasks, processes=processes))
    assert results[0] == results[1]
    for path in (tmp_path / "here").iterdir():
        assert path.read_bytes() == (tmp_path / "pool" / path.name).read_bytes()


# --------------------------------------------------------------------------- bad input

def _with_meta(src, dst, **changes):
    work = shutil.copytree(src, dst)
    data = _results(work)
    for key, value in changes.items():
        data["meta"][key] = value
    (work / "results.json").write_text(json.dumps(data))
    return work


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
    with pytest.raises(InputError, match="is a directory"):
        write_report([runs / "folder"], tmp_path)

    other = _with_meta(runs / "model", tmp_path / "other",
                       dataset={**_results(runs / "model")["meta"]["dataset"], "name": "otherset"})
    with pytest.raises(MatbenchError, match="different datasets cannot share a report") as err:
        write_report([runs / "folder", other], tmp_path / "r.html")
    assert "\n" not in str(err.value)

    kept_none = _with_meta(runs / "model", tmp_path / "nokept", predictions=None)
    with pytest.raises(InputError, match="kept no predictions"):
        write_report([kept_none], tmp_path / "r.html")

    gone = shutil.copytree(runs / "model", tmp_path / "gone")
    (gone / "predictions" / "c03.png").unlink()
    with pytest.raises(InputError, match=r"c03\.png: prediction missing"):
        write_report([gone], tmp_path / "r.html")

    foreign = tmp_path / "mine_files"
    foreign.mkdir()
    with pytest.raises(InputError, match="not written by matbench report"):
        write_report([runs / "folder"], tmp_path / "mine.html")


def test_cli_report_and_its_errors(runs, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-c", "from matbench.cli import main; main()", "report", *args],
                              capture_output=True, text=True, timeout=300)

    done = cli(str(runs / "folder"), str(runs / "model"), "--out", str(tmp_path / "cli.html"), "--top", "3")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cli.html").is_file() and len(_Page((tmp_path / "cli.html").read_text()).items) == 3
    failed = cli(str(tmp_path))
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [f"matbench: error: {tmp_path}: no results.json: not a finished "
                                                  "evaluation run (run matbench eval first)"]


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
    total = len(_Page(report.read_text()).imgs)
    assert 'data-js="ready"' in body
    assert f'data-images-loaded="{total}/{total}"' in body and 'data-images-broken="0"' in body


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
