"""Paper-style leaderboard tables: cells, published rows, notes, variants and formats."""
import csv
import io
import json

import pytest

from matbench.errors import InputError, MatbenchError
from matbench.evaluation.summary import summarize
from matbench.groups import group_specs
from matbench.leaderboard import load_results, render, write
from matbench.leaderboard.references import load_references
from matbench_datasets.aim500 import AIM500_GROUPS, CATEGORY_GROUP, TYPES

CATEGORIES = tuple(CATEGORY_GROUP["values"])
GROUPS = group_specs(AIM500_GROUPS)

AIM_KEYS = ["sad", "mse", "mad", "sad_trimap", "mse_trimap", "mad_trimap", "sad_fg", "sad_bg", "conn", "grad"]
DIM_KEYS = ["sad", "mse", "grad", "conn"]


def _row(name, type_, category, sad, **kw):
    row = {"name": name, "type": type_, "category": category, "unknown_pixels": 100, "sad": sad,
           "mse": sad / 1000, "mad": sad / 500, "sad_trimap": sad / 2, "mse_trimap": 0.01, "mad_trimap": 0.02,
           "sad_fg": 0.1, "sad_bg": 0.2, "conn": sad - 1, "grad": sad / 4}
    row.update(kw)
    return row


# Means: sad 30.0, mse 0.03, mad 0.06, sad_trimap 15.0, conn 29.0, grad 7.5; SO 15.0 (10, 20),
# STM 60.0, no NS. Categories: animal 10.0, portrait 20.0, plant 60.0, the other four missing.
AIM_ROWS = [_row("a", "SO", "animal", 10.0), _row("b", "SO", "portrait", 20.0),
            _row("c", "STM", "plant", 60.0, unknown_pixels=0, mse_trimap=None, mad_trimap=None)]


def aim_results(rows=AIM_ROWS, label="AimNet / hybrid (1/2 & 1/4)", dataset="AIM500", n=None):
    n = len(rows) if n is None else n
    return {"meta": {"variant": "aim", "label": label, "dataset": {"type": dataset, "data_root": "/d", "num_images": n},
                     "matbench_version": "0.1.0", "date": "2024-01-01",
                     "source": {"type": "StrategyPredictor",
                                "strategy": {"type": "hybrid", "global_ratio": 0.25, "local_ratio": 0.5}}},
            "per_image": list(rows), "summary": summarize(rows, AIM_KEYS, GROUPS)}


def dim_results(label="predictions: my_method"):
    rows = [{k: v for k, v in r.items() if k in ("name", "type", "category", "unknown_pixels", *DIM_KEYS)}
            for r in AIM_ROWS]
    return {"meta": {"variant": "dim", "label": label, "dataset": {"type": "AIM500", "num_images": len(rows)},
                     "source": {"type": "PredictionFolder", "root": "/p"}},
            "per_image": rows, "summary": summarize(rows, DIM_KEYS, GROUPS)}


def md_rows(text):
    """Markdown table rows as lists of stripped cells, keyed by caption."""
    tables, caption = {}, None
    for line in text.splitlines():
        if line.startswith("**"):
            caption = line.strip("*")
            tables[caption] = []
        elif line.startswith("|") and not line.startswith("|--"):
            tables[caption].append([c.strip() for c in line.strip("|").split("|")])
    return tables


def table(text, word, variant="aim"):
    (rows,) = [t for cap, t in md_rows(text).items() if word in cap and f"variant {variant}" in cap]
    return rows


def test_whole_image_cells_are_formatted_like_the_paper():
    rows = table(render([aim_results()], "md"), "Whole image")
    assert rows[0] == ["Model / run", "Test", "SAD", "MSE", "MAD", "Conn.", "Grad.", "Tran. SAD",
                       "SO", "STM", "NS", "Avg."]
    assert rows[1] == ["AimNet / hybrid (1/2 & 1/4)", "Hybrid (1/2&1/4)", "30.00", "0.0300", "0.0600", "29.00",
                       "7.50", "15.00", "15.00", "60.00", "", "37.50"]


def test_category_table_cells_and_missing_groups():
    text = render([aim_results()], "md")
    rows = table(text, "per category")
    assert rows[0] == ["Model / run", "Test", "Animal", "Human", "Transp.", "Plant", "Furni.", "Toy", "Fruit", "Avg."]
    assert rows[1][2:] == ["10.00", "20.00", "", "60.00", "", "", "", "30.00"]
    assert "no image of type NS; that cell is empty and Avg. is the mean of SO, STM only" in text
    assert "no image of category Transp., Furni., Toy, Fruit; those cells are empty" in text
    assert "1 image(s) without unknown region" in text


def test_paper_rows_come_first_with_published_values():
    text = render([aim_results()], "md", paper=True)
    whole = table(text, "Whole image")
    assert whole[1] == ["AimNet (paper)", "Hybrid (1/3&1/4)", "43.92", "0.0161", "0.0262", "43.18", "33.05",
                        "30.74", "31.80", "94.02", "134.31", "86.71"]
    assert whole[2][:3] == ["AimNet (update)", "Hybrid (1/3&1/4)", "41.72"] and whole[2][-1] == "81.16"
    assert whole[3][:3] == ["AimNet (update)", "Hybrid (1/2&1/4)", "44.25"] and whole[3][-1] == "86.27"
    assert whole[4][0] == "AimNet / hybrid (1/2 & 1/4)"
    cats = table(text, "per category")
    assert cats[1][2:] == ["26.39", "24.68", "148.68", "54.03", "62.70", "53.15", "37.17", "58.11"]
    assert cats[2][2:] == ["24.97", "24.11", "131.20", "52.11", "65.09", "50.11", "35.26", "54.69"]
    assert cats[3][2:] == ["26.05", "25.09", "137.31", "57.75", "68.88", "53.81", "36.87", "57.97"]
    assert "published numbers from the official AIM README" in text
    assert "AimNet" not in render([aim_results(label="mine")], "md")


def test_published_averages_are_unweighted_means_of_the_groups():
    # Every published Avg. is the mean of its groups to 2 decimals, e.g. (31.80+94.02+134.31)/3 = 86.71,
    # except the README's type Avg. of "update, 1/2&1/4": 86.27 where SO/STM/NS give 85.93.
    checked = []
    (published,) = load_references(["aim-readme"])
    for row in published["rows"]:
        for part, groups in (("type", TYPES), ("category", CATEGORIES)):
            values = row["groups"][part]
            mean = sum(values[g] for g in groups) / len(groups)
            checked.append((row["label"], row["setting"], part, f"{mean:.2f}", f"{values['avg']:.2f}"))
    mismatches = [c for c in checked if c[3] != c[4]]
    assert mismatches == [("AimNet (update)", "Hybrid (1/2&1/4)", "type", "85.93", "86.27")]
    assert f"{(31.80 + 94.02 + 134.31) / 3:.2f}" == "86.71"
    text = render([], "md", paper=True)
    assert "the published type Avg. 86.27 is not the mean of its published type values (85.93)" in text


def test_published_rows_only_in_aim_tables_and_variants_never_mixed():
    text = render([dim_results(), aim_results()], "md", paper=True)
    tables = md_rows(text)
    captions = list(tables)
    assert len(captions) == 4
    assert all(("variant dim" in c) != ("variant aim" in c) for c in captions)
    dim_whole = table(text, "Whole image", "dim")
    assert dim_whole[0] == ["Model / run", "Test", "SAD", "MSE", "Grad.", "Conn.", "SO", "STM", "NS", "Avg."]
    assert dim_whole[1:] == [["predictions: my_method", "predictions", "30.00", "0.0300", "7.50", "29.00",
                              "15.00", "60.00", "", "37.50"]]
    assert [r[0] for r in table(text, "per category", "dim")[1:]] == ["predictions: my_method"]
    assert [r[0] for r in table(text, "per category", "aim")[1:]] == [
        "AimNet (paper)", "AimNet (update)", "AimNet (update)", "AimNet / hybrid (1/2 & 1/4)"]
    assert "not a per-pixel mean over the image" in text
    # dim runs with --paper but no aim run: the published rows get an aim table of their own.
    alone = render([dim_results()], "md", paper=True)
    assert [r[0] for r in table(alone, "Whole image", "dim")[1:]] == ["predictions: my_method"]
    assert len(table(alone, "Whole image", "aim")) == 4


def test_each_dataset_gets_its_own_tables():
    text = render([aim_results(), aim_results(label="tiny", dataset="embedded", n=3)], "md")
    captions = list(md_rows(text))
    assert captions == ["Table 1. Whole image - AIM-500 - variant aim (official AIM code)",
                        "Table 2. SAD per category - AIM-500 - variant aim (official AIM code)",
                        f"Table 3. Whole image - {_embedded_title()} - variant aim (official AIM code)",
                        f"Table 4. SAD per category - {_embedded_title()} - variant aim (official AIM code)"]
    assert [r[0] for r in table(text, "Table 3")[1:]] == ["tiny"]
    # one dataset: captions as before, no dataset named
    assert "AIM-500" not in render([aim_results(), aim_results(label="b")], "md")
    # the same dataset scored on different numbers of images is noted
    subset = render([aim_results(), aim_results(AIM_ROWS[:2], label="subset")], "md")
    assert "not scored on the same images" in subset and "2 images: subset [Hybrid (1/2&1/4)]" in subset
    # published AIM-500 rows never sit beside runs of another dataset
    alone = render([aim_results(dataset="embedded")], "md", paper=True)
    assert [r[0] for r in table(alone, "Table 1")[1:]] == ["AimNet / hybrid (1/2 & 1/4)"]
    assert [r[0] for r in table(alone, "Table 3")[1:]] == ["AimNet (paper)", "AimNet (update)", "AimNet (update)"]


def _embedded_title():
    from matbench_datasets.embedded import EmbeddedDataset

    return EmbeddedDataset.METAINFO["title"]


def test_combined_table():
    rows = table(render([aim_results()], "md", combined=True), "Whole image and SAD per category")
    assert rows[0][10:13] == ["NS", "Type Avg.", "Animal"] and rows[0][-1] == "Cat. Avg."
    assert rows[1][-1] == "30.00"


def test_csv_full_precision_with_variant_column():
    res = aim_results([_row("a", "SO", "animal", 10.0, grad=2.123456789), *AIM_ROWS[1:]])
    res["summary"]["metrics"]["grad"] = 99.0      # a stored summary is never shown: rows are the truth
    text = render([res, dim_results()], "csv", paper=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["variant"], r["reference"]) for r in rows] == [("aim", "published")] * 3 + [
        ("aim", "measured"), ("dim", "measured")]
    assert float(rows[3]["grad"]) == (2.123456789 + 5.0 + 15.0) / 3 and float(rows[3]["sad"]) == 30.0
    assert rows[3]["sad_NS"] == "" and float(rows[3]["sad_type_avg"]) == 37.5
    assert rows[0]["sad_type_avg"] == "86.71" and rows[4]["mad"] == ""


def test_latex_and_html_parse_and_escape():
    res = aim_results(label="my_run 100% <b>&</b>")
    latex = render([res], "latex", paper=True)
    assert latex.count(r"\begin{tabular}") == 2 and latex.count(r"\caption{") == 2
    assert r"my\_run 100\% \textless{}b\textgreater{}\&\textless{}/b\textgreater{}" in latex
    assert "variant aim" in latex
    page = render([res], "html")
    assert page.startswith("<!DOCTYPE html>") and page.count("<table>") == 2 and "<caption>" in page
    assert "my_run 100% &lt;b&gt;&amp;&lt;/b&gt;" in page and "<b>" not in page
    assert r"| a\|b " in render([aim_results(label="a|b")], "md")


def test_unknown_variant_gets_its_own_columns():
    rows = [{"name": "a", "type": "SO", "category": "toy", "sad": 1.0, "mse": 0.5, "foo": 2.0}]
    res = {"meta": {"variant": "other"}, "per_image": rows, "summary": summarize(rows, ["sad", "mse", "foo"])}
    whole = table(render([res], "md"), "Whole image", "other")
    assert whole[0][:5] == ["Model / run", "Test", "SAD", "MSE", "foo"]
    assert whole[1][:5] == ["run 1", "", "1.00", "0.5000", "2.00"]


def test_load_results_and_errors(tmp_path):
    good = tmp_path / "run" / "results.json"
    good.parent.mkdir()
    good.write_text(json.dumps(aim_results()))
    assert load_results([good])[0]["meta"]["variant"] == "aim"
    assert load_results([good.parent])[0]["meta"]["label"] == "AimNet / hybrid (1/2 & 1/4)"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(MatbenchError, match=r"bad\.json: invalid JSON") as exc:
        load_results([good, bad])
    assert isinstance(exc.value, InputError) and "\n" not in str(exc.value)
    no_summary = tmp_path / "nosum.json"
    no_summary.write_text(json.dumps({"meta": {"variant": "aim"}, "per_image": []}))
    with pytest.raises(InputError, match=r"nosum\.json: not a matbench results file: 'summary' is missing"):
        load_results([no_summary])
    no_variant = tmp_path / "novar.json"
    no_variant.write_text(json.dumps({**aim_results(), "meta": {"label": "x"}}))
    with pytest.raises(InputError, match=r"'meta\.variant' is missing"):
        load_results([no_variant])
    with pytest.raises(InputError, match="file not found"):
        load_results([tmp_path / "nope.json"])
    with pytest.raises(MatbenchError, match="unknown format"):
        render([aim_results()], "xlsx")
    with pytest.raises(MatbenchError, match="no results"):
        render([], "md")


def test_write_is_atomic_and_creates_folders(tmp_path):
    out = tmp_path / "sub" / "board.md"
    write("one\n", out)
    write("two\n", out)
    assert out.read_text() == "two\n"
    assert [p.name for p in out.parent.iterdir()] == ["board.md"]
