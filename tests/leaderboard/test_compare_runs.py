"""`matbench leaderboard --ci` and `--baseline`: intervals of the means and paired tests against a
baseline run, in every format, as a user runs them."""
import csv
import io

import pytest
from leaderboard_files import cli, make_rows, md_table, one_line_error, write_run

from matbench.leaderboard import load_results, render


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runs")
    return [write_run(tmp, "base", make_rows(), "Base"),
            write_run(tmp, "worse", make_rows(shift=3.0, noise=1.0), "Worse"),
            write_run(tmp, "noisy", make_rows(noise=1.0, seed=2), "Noisy"),
            write_run(tmp, "subset", make_rows(n=60, noise=1.0, seed=3)[:45], "Subset")]


def test_markdown_intervals_and_marks(runs):
    proc = cli("leaderboard", *runs, "--ci", "--baseline", "Base")
    assert proc.returncode == 0, proc.stderr
    rows, notes = md_table(proc.stdout)
    assert rows[0][:6] == ["Model / run", "Test", "SAD", "MSE", "Grad.", "Conn."]
    by_label = {r[0]: r for r in rows[1:]}
    # every measured mean has "± half-width"; the shifted run is marked worse in every column
    assert all(" ± " in cell for row in rows[1:] for cell in row[2:6])
    assert all(cell.endswith("▼") for cell in by_label["Worse"][2:9]), by_label["Worse"]
    # noise only, and a subset of the images with noise only: no mark
    assert not any("▲" in c or "▼" in c for c in by_label["Noisy"] + by_label["Subset"] + by_label["Base"])
    assert "±" not in by_label["Base"][-1]                        # Avg.: a mean of means, no interval
    text = " ".join(notes)
    assert "95 % percentile bootstrap interval" in text and "2,000 resamples" in text
    assert "Wilcoxon signed-rank" in text and "Holm-Bonferroni" in text and "α = 0.05" in text
    assert "baseline Base [predictions]" in text and "3 run(s) compared" in text
    assert "Images paired: Worse [predictions] 60, Noisy [predictions] 60, Subset [predictions] 45" in text
    assert ("Subset [predictions]: compared with the baseline on the 45 images both scored (0 of its images are "
            "not in the baseline's, 15 of the baseline's are not in its)") in text
    # the category table gets intervals and marks too
    cats, _ = md_table(proc.stdout, "per category")
    assert cats[0][2:] == ["Animal", "Plant", "Avg."] and cats[2][2].endswith("▼") and " ± " in cats[2][2]


def test_the_interval_is_the_bootstrap_of_the_rows(runs):
    from matbench.stats import bootstrap_mean_ci

    loaded = load_results(runs[:2])
    text = render(loaded, "csv", ci=True, baseline="Base")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["run"] for r in rows] == ["Base", "Worse"]
    sads = [r["sad"] for r in loaded[1]["per_image"]]
    lo, hi = bootstrap_mean_ci(sads)
    assert (float(rows[1]["sad_ci95_lo"]), float(rows[1]["sad_ci95_hi"])) == (lo, hi)
    assert float(rows[1]["sad_ci95_lo"]) < float(rows[1]["sad"]) < float(rows[1]["sad_ci95_hi"])
    assert [r["sad_vs_baseline"] for r in rows] == ["baseline", "worse"]
    assert rows[0]["sad_p_wilcoxon"] == "" and float(rows[1]["sad_p_wilcoxon"]) < 1e-6
    assert rows[1]["sad_SO_vs_baseline"] == "worse" and "sad_type_avg_vs_baseline" not in rows[1]
    # the same numbers on every call
    assert render(loaded, "csv", ci=True, baseline="Base") == text


def test_latex_and_html_marks(runs):
    loaded = load_results(runs)
    latex = render(loaded, "latex", ci=True, baseline="Base")
    assert r"$\pm$" in latex and r"$^{\blacktriangledown}$" in latex and r"$^{\blacktriangle}$" not in latex
    assert latex.splitlines()[0].endswith(r"\usepackage{amssymb}")
    page = render(loaded, "html", ci=True, baseline="Base")
    assert '<span class="worse" title="worse than the baseline: mean difference' in page
    assert "Wilcoxon p = " in page and " ± " in page


def test_intervals_of_published_rows_are_absent_and_said(runs):
    text = render(load_results(runs[:1]), "md", paper=True, ci=True)
    rows, notes = md_table(text)
    assert [r[0] for r in rows[1:]] == ["AimNet (paper)", "AimNet (update)", "AimNet (update)", "Base"]
    assert "±" not in " ".join(rows[1]) and "±" in rows[4][2]
    assert any("published numbers, --trust-summary files) have no interval" in n for n in notes)


def test_baseline_errors(runs, tmp_path):
    one_line_error(cli("leaderboard", *runs, "--baseline", "Nope"),
                   "--baseline 'Nope' is not a run (labels: Base; Worse; Noisy; Subset)")
    twin = write_run(tmp_path, "twin", make_rows(), "Base")
    one_line_error(cli("leaderboard", runs[0], twin, "--baseline", "Base"),
                   "--baseline 'Base' matches 2 rows of one table", "Base (base) [predictions]; Base (twin)")
    one_line_error(cli("leaderboard", runs[0], "--paper", "--baseline", "AimNet (paper)"),
                   "AimNet (paper) [Hybrid (1/3&1/4)] has no per-image values to pair")
    # told apart, each label works
    text = render(load_results([runs[0], twin]), "md", baseline="Base (twin)")
    assert "baseline Base (twin) [predictions]" in text
