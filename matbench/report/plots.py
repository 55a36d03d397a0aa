"""The report's plots, drawn by matplotlib as SVG text to inline in the page (no image files,
text stays text, points of the scatter are links to their photo in the gallery).

Labels are plain text: matplotlib's mathtext is off (a run called ``$x_1$`` is shown as typed,
not parsed, and never crashes a plot). Legends sit outside the axes, so that twenty runs hide no
bar and no line; every run has its own colour (:func:`run_colour`, distinct up to 20 runs).
"""
from __future__ import annotations

import colorsys
import html
import io
import math
import re
import warnings
from typing import Sequence

import numpy as np

#: one colour per run, in order: matplotlib's ten, then ten more of distinct hue or lightness
RUN_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22", "#17becf", "#393b79", "#000000", "#f7b6d2", "#637939", "#843c39", "#9edae5",
               "#e7ba52", "#7b4173", "#98df8a", "#ff9896"]
#: colours of the group values in a scatter (matplotlib's Dark2: not to be read as runs)
GROUP_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
#: legends with more entries than this go below the plot, in columns
LEGEND_SIDE_MAX = 8


def run_colour(index: int) -> str:
    """The colour of run ``index`` (0-based): distinct for the first 20, then hues a golden angle apart."""
    if index < len(RUN_COLOURS):
        return RUN_COLOURS[index]
    r, g, b = colorsys.hls_to_rgb((index * 0.618033988749895) % 1.0, 0.45, 0.65)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _context(salt: str):
    import matplotlib

    # ids are hashes salted per figure: several SVGs in one page must not share an id
    return matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt, "text.parse_math": False,
                                  "text.usetex": False})


def _svg(fig, titles: dict[str, str] | None = None) -> str:
    """The figure as an inline <svg> element; ``titles``: tooltip per link target."""
    buf = io.StringIO()
    with warnings.catch_warnings():
        # a figure too small for its labels (a handful of tiny images) is drawn as it is; the
        # layout engine's warning would be a traceback-like line in the user's terminal
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    if titles:
        text = re.sub(r'<a xlink:href="([^"]*)">',
                      lambda m: f'{m.group(0)}<title>{html.escape(titles.get(html.unescape(m.group(1)), ""))}</title>',
                      text)
    return text


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _legend(fig, handles: list, labels: Sequence[str]) -> None:
    """The runs' legend outside the axes: on the right for a few, below in columns for many."""
    if not handles:
        return
    if len(labels) <= LEGEND_SIDE_MAX:
        fig.legend(handles, labels, loc="outside right upper", fontsize="small", frameon=False)
    else:
        fig.legend(handles, labels, loc="outside lower center", fontsize="small", frameon=False,
                   ncols=min(4, len(labels)))


def _legend_height(count: int) -> float:
    """Inches a legend below the plot needs."""
    return 0.0 if count <= LEGEND_SIDE_MAX else 0.2 * math.ceil(count / 4) + 0.1


def group_bars(group: dict, labels: Sequence[str], means: Sequence[dict], intervals: Sequence[dict],
               metric: str = "SAD", colours: Sequence[str] | None = None) -> str:
    """Mean ``metric`` per value of ``group``, one bar per run, with its interval as an error bar
    (``means``, ``intervals``: per run, value -> mean or None, value -> (lo, hi) or None)."""
    colours = colours or [run_colour(k) for k in range(len(labels))]
    values = list(group["values"])
    with _context(f"bars-{group['key']}"):
        width_in = min(14.0, max(3.6, 0.16 * len(values) * max(1, len(labels)) + 2.0))
        fig = _figure(width_in, 2.6 + _legend_height(len(labels)))
        ax = fig.add_subplot()
        width = 0.8 / max(1, len(labels))
        x = np.arange(len(values))
        handles = []
        for k, (label, mean, ci) in enumerate(zip(labels, means, intervals)):
            heights = np.array([mean.get(v) if mean.get(v) is not None else np.nan for v in values], float)
            lo = np.array([(ci.get(v) or (np.nan, np.nan))[0] for v in values], float)
            hi = np.array([(ci.get(v) or (np.nan, np.nan))[1] for v in values], float)
            err = np.vstack([np.clip(heights - lo, 0, None), np.clip(hi - heights, 0, None)])
            bars = ax.bar(x + (k - (len(labels) - 1) / 2) * width, heights, width, color=colours[k],
                          yerr=np.nan_to_num(err), error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333"})
            handles.append(bars)
        ax.set_xticks(x, [str(group["values"][v]) for v in values])
        if len(values) > 4:                 # long lists of names: slanted, so that they do not overlap
            ax.tick_params(axis="x", labelrotation=35)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
        ax.set_ylabel(f"mean {metric}")
        ax.spines[["top", "right"]].set_visible(False)
        _legend(fig, handles, list(labels))
        return _svg(fig)


def distribution(labels: Sequence[str], values: Sequence[Sequence[float]], metric: str = "SAD",
                 colours: Sequence[str] | None = None) -> str:
    """Per-image ``metric`` of each run: histogram (shared bins) and cumulative distribution."""
    colours = colours or [run_colour(k) for k in range(len(labels))]
    with _context("distribution"):
        fig = _figure(7.2, 2.6 + _legend_height(len(labels)))
        hist, cdf = fig.subplots(1, 2)
        finite = [np.asarray([v for v in vs if v is not None and np.isfinite(v)], float) for vs in values]
        pooled = np.concatenate(finite) if finite else np.zeros(0)
        bins = np.histogram_bin_edges(pooled, bins=30) if pooled.size else 10
        handles, shown = [], []
        for k, (label, vs) in enumerate(zip(labels, finite)):
            if not vs.size:
                continue
            hist.hist(vs, bins=bins, histtype="step", linewidth=1.3, color=colours[k])
            xs = np.sort(vs)
            (line,) = cdf.step(xs, np.arange(1, xs.size + 1) / xs.size, where="post", color=colours[k])
            handles.append(line)
            shown.append(label)
        hist.set_xlabel(f"{metric} per image")
        hist.set_ylabel("images")
        cdf.set_xlabel(f"{metric} per image")
        cdf.set_ylabel("fraction of images ≤ x")
        hist.set_title("histogram", fontsize="small")
        cdf.set_title("cumulative", fontsize="small")
        for ax in (hist, cdf):
            ax.spines[["top", "right"]].set_visible(False)
        _legend(fig, handles, shown)
        return _svg(fig)


def scatter(label_a: str, label_b: str, a: Sequence[float | None], b: Sequence[float | None],
            names: Sequence[str], links: Sequence[str | None], groups: Sequence[str] | None = None,
            metric: str = "SAD", salt: str = "scatter", higher_is_better: bool = False) -> str:
    """Per image, ``metric`` of run A (x) against run B (y); each point links to ``links[i]``
    (an anchor of the gallery; None: not in the gallery) and is coloured by ``groups[i]``."""
    with _context(salt):
        fig = _figure(3.8, 3.6)
        ax = fig.add_subplot()
        keep = [i for i in range(len(names)) if a[i] is not None and b[i] is not None]
        xs, ys = np.array([a[i] for i in keep], float), np.array([b[i] for i in keep], float)
        titles = {}
        categories = list(dict.fromkeys(groups[i] for i in keep)) if groups else [None]
        for c, category in enumerate(categories):
            chosen = [j for j, i in enumerate(keep) if groups is None or groups[i] == category]
            points = ax.scatter(xs[chosen], ys[chosen], s=14, alpha=0.8, label=str(category),
                                color=GROUP_COLOURS[c % len(GROUP_COLOURS)] if groups else "#444")
            points.set_urls([links[keep[j]] for j in chosen])
            for j in chosen:
                if links[keep[j]]:
                    titles[links[keep[j]]] = f"{names[keep[j]]}: {xs[j]:.3g} vs {ys[j]:.3g}"
        both = np.concatenate([xs, ys]) if xs.size else np.zeros(0)
        lo = min(0.0, float(both.min())) if both.size else 0.0
        top = (float(both.max()) if both.size else 1.0) * 1.05 or 1.0
        ax.plot([lo, top], [lo, top], color="#999", linewidth=0.8, linestyle="--")
        ax.set_xlim(lo, top)
        ax.set_ylim(lo, top)
        ax.set_aspect("equal")
        ax.set_xlabel(f"{metric}: {label_a}")
        ax.set_ylabel(f"{metric}: {label_b}")
        better = "above" if higher_is_better else "below"
        ax.set_title(f"{better} the line: {label_b} better", fontsize="small")
        if groups and len(categories) > 1:
            ax.legend(fontsize="x-small", frameon=False, markerscale=0.8, loc="center left", bbox_to_anchor=(1.02, 0.5))
        ax.spines[["top", "right"]].set_visible(False)
        return _svg(fig, titles)
