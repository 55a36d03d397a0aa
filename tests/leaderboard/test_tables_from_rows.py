"""Tables are computed from the per-image rows, never from a stored summary; files that contradict
themselves are refused; runs that share a label are told apart; a run sits under the published
row its model reproduces."""
import json

import pytest
from leaderboard_files import KEYS, METRIC, cli, make_rows, md_table, one_line_error, results, write_run

from matbench.errors import InputError
from matbench.leaderboard import load_results, render


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_a_wrong_stored_summary_is_not_shown(tmp_path):
    rows = make_rows(n=6)
    data = results(rows, "edited")
    data["summary"]["metrics"]["sad"] = 1.0               # a hand edit
    data["summary"]["type"]["sad"]["SO"] = 2.0
    text = render(load_results([_write(tmp_path, "r.json", data)]), "md")
    table, notes = md_table(text)
    mean = sum(r["sad"] for r in rows) / 6
    so = sum(r["sad"] for r in rows if r["type"] == "SO") / 2
    assert table[1][2] == f"{mean:.2f}" and table[1][6] == f"{so:.2f}"
    assert any(n.startswith("edited [predictions]: the summary stored in") and "sad stored 1, from the rows" in n
               and "sad type SO stored 2" in n and "every number shown is computed from the rows" in n for n in notes)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["per_image"].append(dict(d["per_image"][0])) or d["meta"]["dataset"].update(num_images=7),
     "per_image[6]: image 'im000' appears twice (also per_image[0])"),
    (lambda d: d["meta"]["dataset"].update(num_images=500), "meta.dataset.num_images is 500 but per_image has 6 rows"),
    (lambda d: d["per_image"][2].update(grad="n/a"), "per_image[2].grad: expected a number, got 'n/a'"),
    (lambda d: d["per_image"][1].pop("type"), "per_image[1].type: expected the image's type"),
    (lambda d: d["per_image"][4].pop("name"), "per_image[4].name: expected an image name"),
    (lambda d: d.update(per_image=[]), "no per-image rows (per_image is empty)"),
])
def test_files_that_contradict_themselves_are_refused(tmp_path, edit, message):
    data = results(make_rows(n=6), "bad")
    edit(data)
    path = _write(tmp_path, "bad.json", data)
    one_line_error(cli("leaderboard", path), f"{path}: {message}")


def test_summary_only_files_need_trust_summary(tmp_path):
    data = results(make_rows(n=6), "hand-made")
    data["per_image"] = []
    data["summary"]["metrics"]["sad"] = 12.5
    path = _write(tmp_path, "hand.json", data)
    with pytest.raises(InputError, match="pass --trust-summary"):
        render(load_results([path]), "md")
    text = render(load_results([path]), "md", trust_summary=True, ci=True)
    table, notes = md_table(text)
    assert table[1][:3] == ["hand-made", "predictions", "12.50"]
    assert any("no per-image rows; the summary stored in the file is shown as it is (--trust-summary)" in n
               for n in notes)


def test_runs_sharing_a_label_are_told_apart_in_tables_and_pivot(tmp_path):
    one = write_run(tmp_path, "w1", make_rows(n=6), "Net")
    two = write_run(tmp_path, "w2", make_rows(n=6, shift=1.0), "Net")
    loaded = load_results([one, two])
    table, notes = md_table(render(loaded, "md"))
    assert [r[0] for r in table[1:]] == ["Net (w1)", "Net (w2)"]
    assert ("Runs that share a label are told apart by their work dir: Net (w1) [predictions], "
            "Net (w2) [predictions].") in notes
    pivot, notes = md_table(render(loaded, "md", pivot="SAD"), "across datasets")
    assert [r[0] for r in pivot[1:]] == ["Net (w1)", "Net (w2)"]
    assert float(pivot[2][2]) == pytest.approx(float(pivot[1][2]) + 1.0, abs=0.011)
    # the checkpoint tells them apart when it differs
    for path, ckpt in ((one, "/c/a.pth"), (two, "/c/b.pth")):
        data = json.loads(path.read_text())
        data["meta"]["source"] = {"type": "StrategyPredictor", "model": {"type": "Net"}, "checkpoint": ckpt}
        path.write_text(json.dumps(data))
    table, _ = md_table(render(load_results([one, two]), "md"))
    assert [r[0] for r in table[1:]] == ["Net (a.pth)", "Net (b.pth)"]


def test_different_metric_code_is_noted(tmp_path):
    a = results(make_rows(n=6), "A", identity={"metric": "pkg.metric.Aim", "code": "1111aaaa2222bbbb"})
    b = results(make_rows(n=6), "B", identity={"metric": "pkg.metric.Aim", "code": "3333cccc4444dddd"})
    _, notes = md_table(render([a, b], "md"))
    assert any(n.startswith("Computed by different code of the same metric class pkg.metric.Aim") for n in notes)
    same = results(make_rows(n=6), "C", identity={"metric": "pkg.metric.Aim", "code": "1111aaaa2222bbbb"})
    assert not any("different code" in n for n in md_table(render([a, same], "md"))[1])
    other = results(make_rows(n=6), "D", metric={**METRIC, "title": "official AIM code v2"})
    assert any("meta.metric differs" in n for n in md_table(render([a, other], "md"))[1])


def test_a_run_sits_under_the_published_row_of_its_model(tmp_path):
    mine = write_run(tmp_path, "aimnet", make_rows(n=6), "aimnet-hybrid", test="Hybrid (1/3&1/4)",
                     published_as={"aim-readme": "AimNet (paper)"})
    other = write_run(tmp_path, "other", make_rows(n=6, shift=1.0), "Other")
    table, notes = md_table(render(load_results([other, mine]), "md", references=["aim-readme"]))
    assert [(r[0], r[1]) for r in table[1:]] == [
        ("AimNet (paper, published)", "Hybrid (1/3&1/4)"), ("AimNet (paper, matbench)", "Hybrid (1/3&1/4)"),
        ("AimNet (update)", "Hybrid (1/3&1/4)"), ("AimNet (update)", "Hybrid (1/2&1/4)"), ("Other", "predictions")]
    assert any("the run 'aimnet-hybrid'" in n and "published row 'AimNet (paper)' of aim-readme" in n for n in notes)
    # without the reference source, the run is an ordinary row under its own label
    table, _ = md_table(render(load_results([other, mine]), "md"))
    assert [r[0] for r in table[1:]] == ["Other", "aimnet-hybrid"]


def test_values_a_variant_declares_higher_is_better(tmp_path):
    metric = {**METRIC, "variant": "toy", "title": "toy", "keys": [*KEYS, "acc"],
              "columns": [["sad", "SAD", 2], ["acc", "Acc.", 2]], "higher_is_better": ["acc"]}
    runs = []
    for label, shift in (("A", 0.0), ("B", 1.0), ("C", 2.0)):
        rows = make_rows(n=30, shift=shift)
        for row in rows:
            row["acc"] = row["sad"]
        runs.append(results(rows, label, metric=metric))
    table, _ = md_table(render(runs, "md", best=True, baseline="A"))
    # SAD: lower is better (A bold, B underlined, worse than A); Acc.: higher is better (C bold, better than A)
    sad = [sum(r["sad"] for r in res["per_image"]) / 30 for res in runs]
    assert [r[2] for r in table[1:]] == [f"**{sad[0]:.2f}**", f"_{sad[1]:.2f}_ ▼", f"{sad[2]:.2f} ▼"]
    assert [r[3] for r in table[1:]] == [f"{sad[0]:.2f}", f"_{sad[1]:.2f}_ ▲", f"**{sad[2]:.2f}** ▲"]
