"""`leaderboard --out` never overwrites an input, a run's files or data, or a file that is not one
of its own outputs; and `leaderboard --help` describes every option."""
import pytest
from leaderboard_files import cli, make_rows, one_line_error, write_run


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("out")
    path = write_run(tmp, "w", make_rows(n=6), "Run")
    (tmp / "w" / "per_image.jsonl").write_text("{}\n")
    (tmp / "w" / "predictions").mkdir()
    (tmp / "w" / "predictions" / "im000.png").write_bytes(b"\x89PNG")
    (tmp / "notes.md").write_text("my notes\n")
    return tmp, path


@pytest.mark.parametrize("target, fmt, message", [
    ("w/results.json", "md", "is one of the results files read"),
    ("w/per_image.jsonl", "md", "is a file matbench eval keeps in the work dir"),
    ("w/predictions/im000.png", "md", "is inside predictions/ of the work dir"),
    ("w/predictions/new.md", "md", "is inside predictions/ of the work dir"),
    ("notes.md", "md", "exists and is not a matbench leaderboard (its first line is not the "
                       "'<!-- matbench leaderboard -->' marker)"),
    ("notes.md", "csv", "its first line is not the header row of matbench's CSV"),
    ("w", "md", "is a folder"),
])
def test_refused_before_anything_is_written(work, target, fmt, message):
    tmp, path = work
    before = {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file()}
    proc = cli("leaderboard", path, "--format", fmt, "--out", tmp / target)
    one_line_error(proc, str(tmp / target), message)
    assert proc.stdout == ""
    assert {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file()} == before


def test_own_outputs_are_overwritten_in_their_format_only(work):
    tmp, path = work
    for fmt, name, first in (("md", "board.md", "<!-- matbench leaderboard -->"), ("latex", "board.tex", "% matbench"),
                             ("csv", "board.csv", "variant,run,test"), ("html", "board.html", "<!DOCTYPE html>")):
        out = tmp / name
        for _ in range(2):                         # written, then overwritten
            proc = cli("leaderboard", path, "--format", fmt, "--out", out)
            assert proc.returncode == 0, proc.stderr
            assert out.read_text().startswith(first)
        assert out.read_text().endswith(proc.stdout[:-1])          # echo adds a newline
    one_line_error(cli("leaderboard", path, "--format", "latex", "--out", tmp / "board.md"),
                   "is a md leaderboard, not latex")
    (tmp / "empty.md").write_text("")
    assert cli("leaderboard", path, "--out", tmp / "empty.md").returncode == 0
    # a leaderboard inside a run's work dir is fine
    assert cli("leaderboard", path, "--out", tmp / "w" / "leaderboard.md").returncode == 0


def test_help_describes_every_option():
    proc = cli("leaderboard", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for option in ("--format", "--paper", "--reference", "--pivot", "--ci", "--baseline", "--columns",
                   "--scale-mse", "--best", "--no-best", "--trust-summary", "--out", "md|latex|csv|html"):
        assert option in text, option
