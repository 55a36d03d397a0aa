"""Paper-ready tables: LaTeX that compiles with no edit (caption, label, booktabs, one note
paragraph), best values, chosen columns, MSE x 10^3, the pivot's header."""
import re
import shutil
import subprocess

import pytest
from leaderboard_files import cli, make_rows, md_table, one_line_error, results, write_run

from matbench.leaderboard import load_results, render


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("paper")
    return load_results([write_run(tmp, "a", make_rows(n=30), "Ours_v2 100% & #1"),
                         write_run(tmp, "b", make_rows(n=30, shift=2.0, noise=1.0), "Baseline"),
                         write_run(tmp, "c", make_rows(n=30, shift=4.0, noise=1.0), "Other {x}")])


def test_latex_caption_label_rules_and_one_note_paragraph(three):
    text = render(three, "latex", best=True)
    assert text.startswith("% matbench leaderboard; needs \\usepackage{booktabs}")
    captions = re.findall(r"\\caption\{(.*)\}", text)
    assert captions == ["Whole image, AIM-500, variant aim (official AIM code)",
                        "SAD per category, AIM-500, variant aim (official AIM code)"]
    assert re.findall(r"\\label\{(.*)\}", text) == ["tab:aim500-aim", "tab:aim500-aim-category"]
    assert "Table 1" not in text
    assert text.count(r"\toprule") == text.count(r"\midrule") == text.count(r"\bottomrule") == 2
    assert text.count(r"{\footnotesize ") == 2 and r"\par\footnotesize" not in text
    assert r"Ours\_v2 100\% \& \#1" in text and r"Other \{x\}" in text
    first = text.split(r"\begin{table}")[1]
    assert first.count("mean SAD per type") == 1                # each fact once per table


def test_best_values_in_every_format(three):
    md, _ = md_table(render(three, "md", best=True))
    assert [r[2] for r in md[1:]] == ["**" + md[1][2].strip("*") + "**", "_" + md[2][2].strip("_") + "_",
                                      md[3][2]] and md[3][2][0].isdigit()
    plain, _ = md_table(render(three, "md"))
    assert all("*" not in c and not c.startswith("_") for row in plain for c in row[2:])
    assert r"\textbf{" in render(three, "latex", best=True) and r"\underline{" in render(three, "latex", best=True)
    assert "<strong>" in render(three, "html", best=True) and "<u>" in render(three, "html", best=True)
    assert "<strong>" not in render(three, "html")
    # the command line marks them by default; --no-best turns it off
    marked, _ = md_table(cli("leaderboard", three[0].path, three[1].path).stdout)
    assert marked[1][2].startswith("**") and not marked[2][2].startswith(("*", "_"))   # two rows: no second
    unmarked, _ = md_table(cli("leaderboard", three[0].path, three[1].path, "--no-best").stdout)
    assert not any(c.startswith(("*", "_")) for row in unmarked for c in row)


def test_columns_choose_and_order(three):
    table, _ = md_table(render(three, "md", columns="grad,SAD"))
    assert table[0] == ["Model / run", "Test", "Grad.", "SAD"]
    assert "per category" not in render(three, "md", columns="grad,sad")
    with_groups = render(three, "md", columns="sad,type,category")
    assert md_table(with_groups)[0][0] == ["Model / run", "Test", "SAD", "SO", "STM", "NS", "Avg."]
    assert md_table(with_groups, "per category")[0][0][2:] == ["Animal", "Plant", "Avg."]
    one_line_error(cli("leaderboard", three[0].path, "--columns", "sad,grda"),
                   "--columns: unknown column 'grda'; did you mean 'grad'? "
                   "(known: category, conn, grad, mse, sad, type)")


def test_scale_mse(three):
    table, _ = md_table(render(three, "md", columns="sad,mse", scale_mse=True))
    assert table[0][3] == "MSE (×10⁻³)"
    mse = sum(r["mse"] for r in three[0]["per_image"]) / 30
    assert table[1][3] == f"{mse * 1000:.2f}"
    latex = render(three, "latex", columns="sad,mse", scale_mse=True, ci=True)
    assert r"MSE ($\times 10^{-3}$)" in latex
    unscaled, _ = md_table(render(three, "md", columns="mse"))
    assert unscaled[1][2] == f"{mse:.4f}"


def test_pivot_any_case_and_its_header(three):
    text = render(three, "md", pivot="SAD")
    assert "**Table 1. SAD across datasets**" in text
    latex = render(three, "latex", pivot="Mse", scale_mse=True)
    assert r"\caption{MSE ($\times 10^{-3}$) across datasets" in latex and r"& AIM-500 (aim) \\" in latex
    assert r"\label{tab:pivot-mse}" in latex
    one_line_error(cli("leaderboard", three[0].path, "--pivot", "sda"),
                   "--pivot sda: no run has this metric; did you mean 'sad'?")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles_without_edits(three, tmp_path):
    other = results(make_rows(n=30, shift=1.0), "dim_run", metric={
        "variant": "dim", "title": "mmagic's DIM", "keys": ["sad", "mse", "grad", "conn"],
        "columns": [["sad", "SAD", 2], ["mse", "MSE", 4]], "headers": {}, "note": "dim: 100% of ~ & _ ^ $",
        "uses_trimap": True, "higher_is_better": []})
    bodies = [render([*three, other], "latex", paper=True, ci=True, baseline="Baseline", best=True, scale_mse=True),
              render(three, "latex", pivot="sad", ci=True, baseline="Baseline"),
              render(three, "latex", combined=True)]
    for i, body in enumerate(bodies):
        (tmp_path / f"t{i}.tex").write_text(body)
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{graphicx}\n\\usepackage{amssymb}\n"
                   "\\begin{document}\n" + "".join(f"\\input{{t{i}.tex}}\n\\clearpage\n" for i in range(len(bodies)))
                   + "See Table~\\ref{tab:aim500-aim}.\n\\end{document}\n")
    proc = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", doc.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log and (tmp_path / "doc.pdf").stat().st_size > 0
