"""Writers of the table model: Markdown, LaTeX (booktabs), HTML and CSV.

A numeric cell is its mean, then ``± half-width`` of its interval (``--ci``), then a mark when it
differs significantly from the baseline's (``--baseline``); with ``best``, the best and second-best
value of each column (by the metric's direction, as displayed) are bold and underlined.
"""
from __future__ import annotations

import csv
import html
import io
import math
import re
from typing import TYPE_CHECKING, Sequence

from tabulate import tabulate

if TYPE_CHECKING:
    from .model import Table

FORMATS = ("md", "latex", "csv", "html")

#: the first line of every Markdown or LaTeX leaderboard matbench writes to a file, and a line
#: of its HTML page: ``--out`` only ever overwrites a file that carries it
MARKER = {"md": "<!-- matbench leaderboard -->", "html": "<!-- matbench leaderboard -->",
          "latex": "% matbench leaderboard"}

SYMBOLS = {"better": "▲", "worse": "▼"}
_LATEX_SYMBOLS = {"better": r"$^{\blacktriangle}$", "worse": r"$^{\blacktriangledown}$"}


def _cell(value: object, decimals: int | None) -> str:
    if value is None:
        return ""
    if decimals is None:
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{decimals}f}"


def _ranks(table: Table) -> dict[tuple[int, int], int]:
    """(row, column) -> 1 for the best value of a numeric column as displayed (columns with two
    values or more), 2 for the second best (three or more); ties share a rank."""
    ranks: dict[tuple[int, int], int] = {}
    for c, column in enumerate(table.columns):
        if column is None or table.decimals[c] is None:
            continue
        shown = {}
        for r, row in enumerate(table.rows):
            if isinstance(row[c], (int, float)) and not isinstance(row[c], bool) and math.isfinite(row[c]):
                shown[r] = round(float(row[c]), table.decimals[c])
        if len(shown) < 2:
            continue
        order = sorted(set(shown.values()), reverse=column.higher)
        for r, v in shown.items():
            if v == order[0]:
                ranks[(r, c)] = 1
            elif len(shown) > 2 and len(order) > 1 and v == order[1]:
                ranks[(r, c)] = 2
    return ranks


def _parts(table: Table, r: int, c: int) -> tuple[str, str | None, str | None]:
    """The value as displayed, the ± half-width (or None) and the mark (or None) of a cell."""
    dec = table.decimals[c]
    value = _cell(table.rows[r][c], dec)
    pm = None
    if table.cis and table.cis[r][c] is not None and dec is not None:
        lo, hi = table.cis[r][c]
        pm = f"{(hi - lo) / 2:.{dec}f}"
    mark = None
    if table.marks and table.marks[r][c] is not None and table.marks[r][c][0] in SYMBOLS:
        mark = table.marks[r][c][0]
    return value, pm, mark


def _title(table: Table, r: int, c: int) -> str:
    mark, paired = table.marks[r][c]
    return (f"{mark} than the baseline: mean difference {paired.mean_diff:.4g} "
            f"[{paired.lo:.4g}, {paired.hi:.4g}], Wilcoxon p = {paired.p_value:.3g}, "
            f"{paired.wins} better / {paired.ties} equal / {paired.losses} worse of {paired.n} images")


# --------------------------------------------------------------------------- Markdown

def _md_cells(table: Table, best: bool) -> list[list[str]]:
    ranks = _ranks(table) if best else {}
    out = []
    for r, row in enumerate(table.rows):
        cells = []
        for c in range(len(row)):
            value, pm, mark = _parts(table, r, c)
            if value and ranks.get((r, c)) == 1:
                value = f"**{value}**"
            elif value and ranks.get((r, c)) == 2:
                value = f"_{value}_"
            text = value + (f" ± {pm}" if pm else "") + (f" {SYMBOLS[mark]}" if mark else "")
            cells.append(text.replace("|", "\\|"))        # a "|" in a run's name would split its cell
        out.append(cells)
    return out


def _align(table: Table) -> tuple:
    return tuple("left" if d is None else "right" for d in table.decimals)


def markdown(tables: Sequence[Table], best: bool = False) -> str:
    parts = []
    for t in tables:
        body = tabulate(_md_cells(t, best), t.headers, tablefmt="github", disable_numparse=True,
                        colalign=_align(t))
        notes = "\n".join(f"- {n}" for n in t.notes)
        parts.append(f"**{t.caption}**\n\n{body}\n\n{notes}".rstrip())
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- LaTeX

_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
                  "±": r"$\pm$", "×": r"$\times$", "α": r"$\alpha$", "−": "-", "–": "--", "—": "---",
                  "⁻": r"\textsuperscript{-}", "³": r"\textsuperscript{3}",
                  "▲": r"$\blacktriangle$", "▼": r"$\blacktriangledown$"}


_LATEX_PHRASES = {"×10⁻³": r"$\times 10^{-3}$", "×10³": r"$\times 10^{3}$"}
_LATEX_TOKENS = re.compile("|".join(map(re.escape, _LATEX_PHRASES)) + "|.", re.S)


def latex_escape(text: str) -> str:
    """Text safe for LaTeX: its special characters, and the few non-ASCII symbols tables use
    (``MSE (×10⁻³)`` becomes ``MSE ($\\times 10^{-3}$)``)."""
    return "".join(_LATEX_PHRASES.get(t) or _LATEX_ESCAPES.get(t, t) for t in _LATEX_TOKENS.findall(str(text)))


def _latex_cell(table: Table, r: int, c: int, ranks: dict) -> str:
    value, pm, mark = _parts(table, r, c)
    value = latex_escape(value)
    if value and ranks.get((r, c)) == 1:
        value = f"\\textbf{{{value}}}"
    elif value and ranks.get((r, c)) == 2:
        value = f"\\underline{{{value}}}"
    return value + (f" $\\pm$ {pm}" if pm else "") + (_LATEX_SYMBOLS[mark] if mark else "")


def _sentence(note: str) -> str:
    note = note.strip()
    return note if note.endswith((".", "!", "?", ")")) else note + "."


def latex(tables: Sequence[Table], best: bool = False) -> str:
    """One ``table`` float per table: a caption without a number (LaTeX numbers it) naming the
    dataset and variant, a ``\\label``, booktabs rules and one paragraph of notes under it."""
    marks = any(m and m[0] in SYMBOLS for t in tables for row in t.marks for m in row)
    parts = []
    for t in tables:
        ranks = _ranks(t) if best else {}
        heads = [latex_escape(h) for h in t.headers]
        spec = "".join("l" if d is None else "r" for d in t.decimals)
        lines = [" & ".join(heads) + r" \\", r"\midrule"]
        lines += [" & ".join(_latex_cell(t, r, c, ranks) for c in range(len(row))) + r" \\"
                  for r, row in enumerate(t.rows)]
        notes = " ".join(latex_escape(_sentence(n)) for n in t.notes)
        parts.append("\\begin{table}[t]\n\\centering\n"
                      f"\\caption{{{latex_escape(t.title or t.caption)}}}\n"
                      + (f"\\label{{{t.label}}}\n" if t.label else "")
                      # as wide as its columns, shrunk to the text width when wider (graphicx)
                      + "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n"
                      + f"\\begin{{tabular}}{{{spec}}}\n\\toprule\n" + "\n".join(lines) + "\n\\bottomrule\n"
                      "\\end{tabular}}\n"
                      + (f"\\par\\smallskip\n{{\\footnotesize {notes}\\par}}\n" if notes else "")
                      + "\\end{table}")
    needs = "\\usepackage{booktabs}\\usepackage{graphicx}" + ("\\usepackage{amssymb}" if marks else "")
    return f"{MARKER['latex']}; needs {needs}\n" + "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- HTML

_HTML_STYLE = ("body{font-family:sans-serif}table{border-collapse:collapse;margin:1.5em 0 .3em}"
               "th,td{padding:2px 8px;border-bottom:1px solid #ccc}caption{font-weight:bold;text-align:left}"
               "td.num{text-align:right;white-space:nowrap}.better{color:#176b2c}.worse{color:#a11}"
               "p.note{font-size:small;margin:.1em 0}")


def _html_table(t: Table, best: bool) -> str:
    ranks = _ranks(t) if best else {}
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in t.headers)
    body = []
    for r, row in enumerate(t.rows):
        cells = []
        for c in range(len(row)):
            value, pm, mark = _parts(t, r, c)
            value = html.escape(value)
            if value and ranks.get((r, c)) == 1:
                value = f"<strong>{value}</strong>"
            elif value and ranks.get((r, c)) == 2:
                value = f"<u>{value}</u>"
            text = value + (f" ± {pm}" if pm else "")
            if mark:
                text += f' <span class="{mark}" title="{html.escape(_title(t, r, c))}">{SYMBOLS[mark]}</span>'
            cells.append(("<td class=\"num\">" if t.decimals[c] is not None else "<td>") + f"{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table>\n<caption>{html.escape(t.caption)}</caption>\n<thead>\n<tr>{head}</tr>\n</thead>\n"
            "<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>")


def html_page(tables: Sequence[Table], best: bool = False) -> str:
    parts = []
    for t in tables:
        notes = "".join(f'\n<p class="note">{html.escape(n)}</p>' for n in t.notes)
        parts.append(_html_table(t, best) + notes)
    return (f"<!DOCTYPE html>\n{MARKER['html']}\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>matbench leaderboard</title>\n<style>{_HTML_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


# --------------------------------------------------------------------------- CSV

def csv_text(table: Table) -> str:
    """One line per row, every number at full precision (``repr`` of the float). With intervals,
    each numeric column ``X`` is followed by ``X_ci95_lo`` and ``X_ci95_hi``; with a baseline, by
    ``X_vs_baseline`` (better, worse, same, baseline, or empty: not compared) and
    ``X_p_wilcoxon`` (the uncorrected two-sided p-value)."""
    pct = f"{table.confidence * 100:g}".replace(".", "_")
    with_ci = {c for row in table.cis for c, ci in enumerate(row) if ci is not None}
    with_mark = {c for row in table.marks for c, m in enumerate(row) if m is not None}
    headers: list[str] = []
    for c, h in enumerate(table.headers):
        headers.append(h)
        if c in with_ci:
            headers += [f"{h}_ci{pct}_lo", f"{h}_ci{pct}_hi"]
        if c in with_mark:
            headers += [f"{h}_vs_baseline", f"{h}_p_wilcoxon"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for r, row in enumerate(table.rows):
        line: list[str] = []
        for c, value in enumerate(row):
            line.append(_cell(value, None))
            if c in with_ci:
                ci = table.cis[r][c]
                line += [repr(ci[0]), repr(ci[1])] if ci else ["", ""]
            if c in with_mark:
                mark = table.marks[r][c]
                line += [mark[0], repr(mark[1].p_value) if mark[1] else ""] if mark else ["", ""]
        writer.writerow(line)
    return out.getvalue()
