"""A suite is checked in full before any work: each problem is one line naming the suite file and
the entry, and nothing is written."""
from pathlib import Path

import pytest

from matbench.errors import MatbenchError
from matbench.suite import load_suite, run_suite, slug
from suite_helpers import bench, suite_text, tiny_sets, write_suite

ROOT = Path(__file__).resolve().parents[2]
CONFIG_SUITES = ROOT / "configs" / "suites"


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    base = tmp_path_factory.mktemp("sets")
    tiny_sets(base)
    return base


def refused(base: Path, text: str) -> str:
    """The one-line error of the suite ``text``, checked by ``run_suite`` (nothing may be written)."""
    path = write_suite(base / "suite.py", text)
    work = base / "never"
    with pytest.raises(MatbenchError) as info:
        run_suite(path, work_dir=work)
    assert not work.exists()
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message[len(f"{path}: "):]


def runs_of(base: Path, runs: str) -> str:
    return suite_text(base, runs=runs)


def test_labels_and_folder_names_are_unique(sets, tmp_path):
    msg = refused(tmp_path, runs_of(sets, "[dict(label='A', model='ClosedForm'), dict(label='A', model='KNN')]"))
    assert msg.startswith("runs[0] and runs[1] have the same label 'A'")
    msg = refused(tmp_path, runs_of(sets, "[dict(label='A b', model='ClosedForm'), dict(label='a-b', model='KNN')]"))
    assert msg.startswith("runs[0] ('A b') and runs[1] ('a-b') would share the folder 'a-b'")
    msg = refused(tmp_path, runs_of(sets, "[dict(label='cf', model='ClosedForm'), "
                                          "dict(label='cf again', model=dict(type='ClosedForm'))]"))
    assert msg.startswith("runs[0] ('cf') and runs[1] ('cf again') are the same run")
    datasets = f"[dict(name='aim500', data_root={str(sets / 'AIM-500')!r}), " \
               f"dict(name='aim500', key='AIM500', data_root={str(sets / 'AIM-500')!r})]"
    msg = refused(tmp_path, suite_text(sets, datasets=datasets))
    assert msg.startswith("datasets[0] ('aim500') and datasets[1] ('AIM500') would share the folder 'aim500'")
    datasets = f"[dict(name='aim500', data_root={str(sets / 'AIM-500')!r}), " \
               f"dict(name='aim500', key='again', data_root={str(sets / 'studio')!r})]"
    msg = refused(tmp_path, suite_text(sets, datasets=datasets))
    assert "are both 'aim500' scored as 'aim': their tables would be merged" in msg
    assert slug("AimNet hybrid (1/2 & 1/4)") == "aimnet-hybrid-1-2-1-4" and slug("..") == ""
    msg = refused(tmp_path, runs_of(sets, "[dict(label='..', model='ClosedForm')]"))
    assert msg == "runs[0] ('..'): the label has no letter or digit to name its folder"


def test_unknown_keys_have_a_did_you_mean(sets, tmp_path):
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', model='ClosedForm', strategy_option=dict(a=1))]"))
    assert msg.startswith("runs[0]: unknown key 'strategy_option'; did you mean 'strategy_options'?")
    msg = refused(tmp_path, suite_text(sets, datasets="[dict(name='embedded', option=dict(indices=2))]"))
    assert msg.startswith("datasets[0]: unknown key 'option'; did you mean 'options'?")
    msg = refused(tmp_path, suite_text(sets).replace("runs =", "run ="))
    assert msg.startswith("unknown key 'run'; did you mean 'runs'?")
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', modle='ClosedForm')]"))
    assert msg.startswith("runs[0]: unknown key 'modle'; did you mean 'model'?")
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', model='ClosedFrom')]"))
    assert msg.startswith("runs[0] ('x'): unknown model 'ClosedFrom'; did you mean 'ClosedForm'?")
    msg = refused(tmp_path, suite_text(sets, datasets="[dict(name='embeded')]"))
    assert msg.startswith("datasets[0] ('embeded'): unknown dataset 'embeded'; did you mean 'embedded'?")
    msg = refused(tmp_path, suite_text(sets, datasets="[dict(name='embedded', options=dict(indice=2))]"))
    assert "options of 'embedded': unknown option 'indice'; did you mean 'indices'?" in msg
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', predictions=dict(aim50='p'))]"))
    assert msg.startswith("runs[0] ('x'): predictions: no dataset 'aim50' in the suite; did you mean 'aim500'?")
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', model='ClosedForm', datasets=['studi'])]"))
    assert "datasets: no dataset 'studi' in the suite; did you mean 'studio'?" in msg
    # helper variables of the user's own are not suite keys
    helper = "_pred = 'p'\nDATA = 'data'\n" + runs_of(sets, "[dict(label='x', model='ClosedForm')]")
    assert len(load_suite(write_suite(tmp_path / "helper.py", helper)).pairs) == 2


def test_what_a_run_is(sets, tmp_path):
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', model='ClosedForm', predictions='p/{dataset}')]"))
    assert msg.startswith("runs[0] ('x'): has both model and predictions")
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x')]"))
    assert msg.startswith("runs[0] ('x'): needs a model=")
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', predictions='p', checkpoint='c.pth')]"))
    assert msg.startswith("runs[0] ('x'): checkpoint: only for a model")
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', predictions='p')]"))
    assert "predictions='p' would be the folder of 2 datasets: write '{dataset}'" in msg
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', model='ClosedForm', strategy='resize')]"))
    assert msg == "runs[0] ('x'): 'ClosedForm' is trimap-based: it takes no strategy"
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', model='AimNet', strategy='resize')]"))
    assert msg.startswith("runs[0] ('x'): 'AimNet' needs checkpoint='...'") and "random_weights=True" in msg
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', model='AimNet', random_weights=True, "
                                          "strategy_options=dict(local_ratoi=0.5))]"))
    assert "unknown option 'local_ratoi'; did you mean 'local_ratio'?" in msg
    msg = refused(tmp_path, runs_of(sets, "[dict(label='x', model='ClosedForm', model_options=dict(p=print))]"))
    assert "option p=<built-in function print> is not a plain value" in msg


def test_missing_data_roots_in_one_message(sets, tmp_path):
    datasets = "[dict(name='aim500', data_root='nowhere/AIM-500'), dict(name='embedded'), " \
               "dict(name='am2k', data_root='nowhere/AM-2k/validation'), dict(name='ppm100')]"
    msg = refused(tmp_path, suite_text(sets, datasets=datasets))
    assert msg == "datasets[3] ('ppm100'): no data_root: the folder of the 'ppm100' set"
    msg = refused(tmp_path, suite_text(sets, datasets=datasets.replace(", dict(name='ppm100')", "")))
    assert msg.startswith("data roots not found (relative paths are from the current folder ")
    assert msg.endswith("datasets[0] ('aim500'): nowhere/AIM-500; datasets[2] ('am2k'): nowhere/AM-2k/validation")


def test_pivot_and_format_are_checked_before_any_work(sets, tmp_path):
    path = write_suite(tmp_path / "suite.py", suite_text(sets))
    for options, message in [(dict(pivot="sda"), "--pivot sda: no dataset of the suite is scored with this "
                                                 "metric; did you mean 'sad'?"),
                             (dict(fmt="tex"), "unknown --format 'tex'"),
                             (dict(threads=0), "--threads 0: expected 1 or more")]:
        with pytest.raises(MatbenchError, match="^" + message.replace("?", r"\?")):
            run_suite(path, work_dir=tmp_path / "never", **options)
    work = tmp_path / "W"
    (work).mkdir()
    (work / "leaderboard.md").write_text("my notes\n")
    with pytest.raises(MatbenchError, match="is not a matbench leaderboard"):
        run_suite(path, work_dir=work)
    assert sorted(p.name for p in work.iterdir()) == ["leaderboard.md"]


def test_cli_refuses_in_one_line_before_any_work(sets, tmp_path):
    path = write_suite(tmp_path / "suite.py", runs_of(sets, "[dict(label='A b', model='ClosedForm'), "
                                                             "dict(label='a-b', model='KNN')]"))
    done = bench(path, "--work-dir", tmp_path / "W", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"matbench: error: {path}: runs[0] ('A b') and runs[1] ('a-b') would share "
                                        "the folder 'a-b'; give one another label"]
    # the shipped example without its data: every missing data root in one line, nothing written
    standard = bench(CONFIG_SUITES / "standard_sets.py", cwd=tmp_path)
    assert standard.returncode == 2 and len(standard.stderr.splitlines()) == 1, standard.stderr
    line = standard.stderr.strip()
    for key, root in [("aim500", "data/AIM-500"), ("am2k", "data/AM-2k/validation"),
                      ("p3m500-p", "data/P3M-10k/validation/P3M-500-P"), ("ppm100", "data/PPM-100"),
                      ("comp1k", "data/Composition-1k-testset")]:
        assert f"('{key}'): {root}" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["suite.py"]


def test_shipped_standard_suite_resolves_with_its_data(tmp_path, monkeypatch):
    """With folders where the data roots point, the example passes every check (the sets' and
    models' plugins, options and trimap-only runs): its pairs are the ones the comments promise."""
    for root in ["AIM-500", "AM-2k/validation", "P3M-10k/validation/P3M-500-P", "PPM-100",
                 "Composition-1k-testset"]:
        (tmp_path / "data" / root).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    suite = load_suite(CONFIG_SUITES / "standard_sets.py")
    by_run = {}
    for pair in suite.pairs:
        by_run.setdefault(pair.run.label, []).append(pair.dataset.key)
    assert by_run == {"AimNet hybrid (1/2 & 1/4)": ["aim500", "am2k", "p3m500-p", "ppm100", "comp1k"],
                      "ClosedForm": ["aim500", "am2k", "p3m500-p", "comp1k"],
                      "KNN": ["aim500", "am2k", "p3m500-p", "comp1k"]}
    aimnet = suite.pairs[0].evaluate_kwargs()
    assert aimnet["strategy"] == "hybrid" and aimnet["strategy_options"] == {"global_ratio": 0.25, "local_ratio": 0.5}
    assert {d.key: d.resolved_variant for d in suite.datasets}["comp1k"] == "dim"


def test_base_inheritance(tmp_path):
    """A suite may start from another (mmengine's ``_base_``): here the embedded suite's datasets
    with runs of its own (lists are replaced, not merged)."""
    path = write_suite(tmp_path / "mine.py", f"_base_ = [{str(CONFIG_SUITES / 'embedded.py')!r}]\n"
                                             "runs = [dict(label='LKM', model='LKM')]\n")
    suite = load_suite(path)
    assert [(p.dataset.key, p.run.label) for p in suite.pairs] == [("embedded", "LKM")]
    assert suite.datasets[0].options == {"indices": 4} and len(suite.file_sha256) == 64
