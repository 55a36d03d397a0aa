"""Writers of the table model: Markdown, LaTeX (booktabs), HTML and CSV."""
from __future__ import annotations

import csv
import html
import io
import math
from typing import Sequence

from tabulate import tabulate

from .model import Table

FORMATS = ("md", "latex", "csv", "html")


def _cell(value: object, decimals: int | None) -> str:
    if value is None:
        return ""
    if decimals is None:
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{decimals}f}"


def _cells(table: Table) -> list[list[str]]:
    return [[_cell(v, d) for v, d in zip(row, table.decimals)] for row in table.rows]


def _align(table: Table) -> tuple:
    return tuple("left" if d is None else "right" for d in table.decimals)


def _tab(table: Table, tablefmt: str) -> str:
    cells = _cells(table)
    if tablefmt == "github":  # a "|" in a run's name would split its cell
        cells = [[c.replace("|", "\\|") for c in row] for row in cells]
    return tabulate(cells, table.headers, tablefmt=tablefmt, disable_numparse=True, colalign=_align(table))


def markdown(tables: Sequence[Table]) -> str:
    parts = []
    for t in tables:
        notes = "\n".join(f"- {n}" for n in t.notes)
        parts.append(f"**{t.caption}**\n\n{_tab(t, 'github')}\n\n{notes}".rstrip())
    return "\n\n".join(parts) + "\n"


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """Text safe for LaTeX (captions and notes; tabulate escapes the cells itself)."""
    return "".join(_LATEX_ESCAPES.get(c, c) for c in text)


def latex(tables: Sequence[Table]) -> str:
    parts = []
    for t in tables:
        notes = "".join(f"\\par\\footnotesize {latex_escape(n)}\n" for n in t.notes)
        parts.append("\\begin{table}[t]\n\\centering\n"
                     f"\\caption{{{latex_escape(t.caption)}}}\n"
                     f"{_tab(t, 'latex_booktabs')}\n{notes}\\end{{table}}")
    return "% matbench leaderboard; needs \\usepackage{booktabs}\n" + "\n\n".join(parts) + "\n"


_HTML_STYLE = ("body{font-family:sans-serif}table{border-collapse:collapse;margin:1.5em 0 .3em}"
               "th,td{padding:2px 8px;border-bottom:1px solid #ccc}caption{font-weight:bold;text-align:left}"
               "p.note{font-size:small;margin:.1em 0}")


def html_page(tables: Sequence[Table]) -> str:
    parts = []
    for t in tables:
        body = _tab(t, "html").replace("<table>", f"<table>\n<caption>{html.escape(t.caption)}</caption>", 1)
        notes = "".join(f'\n<p class="note">{html.escape(n)}</p>' for n in t.notes)
        parts.append(body + notes)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>matbench leaderboard</title>\n<style>{_HTML_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


def csv_text(table: Table) -> str:
    """One line per row, every number at full precision (``repr`` of the float)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.headers)
    writer.writerows(_cells(table))
    return out.getvalue()
