"""The report's plots, drawn by matplotlib as SVG text to inline in the page (no image files,
text stays text, points of the scatter are links to their photo in the gallery)."""
from __future__ import annotations

import html
import io
import re
from typing import Sequence

import numpy as np

#: one colour per run, in order (matplotlib's default cycle)
RUN_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
#: colours of the group values in a scatter (matplotlib's Dark2: not to be read as runs)
GROUP_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]


def run_colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


def _svg(fig, salt: str, titles: dict[str, str] | None = None) -> str:
    """The figure as an inline <svg> element; ``titles``: tooltip per link target."""
    import matplotlib

    buf = io.StringIO()
    # ids are hashes salted per figure: several SVGs in one page must not share an id
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
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

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def group_bars(group: dict, labels: Sequence[str], means: Sequence[dict]) -> str:
    """Mean SAD per value of ``group``, one bar per run (``means``: per run, value -> mean or None)."""
    values = list(group["values"])
    fig = _figure(min(7.0, max(3.2, 0.3 * len(values) * max(1, len(labels)) + 1.5)), 2.4)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(labels))
    x = np.arange(len(values))
    for k, (label, mean) in enumerate(zip(labels, means)):
        heights = [mean.get(v) if mean.get(v) is not None else np.nan for v in values]
        ax.bar(x + (k - (len(labels) - 1) / 2) * width, heights, width, label=label, color=run_colour(k))
    ax.set_xticks(x, [group["values"][v] for v in values])
    ax.set_ylabel("mean SAD")
    ax.legend(fontsize="small", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, f"bars-{group['key']}")


def distribution(labels: Sequence[str], values: Sequence[Sequence[float]], metric: str = "SAD") -> str:
    """Per-image ``metric`` of each run: histogram (shared bins) and cumulative distribution."""
    fig = _figure(6.4, 2.4)
    hist, cdf = fig.subplots(1, 2)
    finite = [np.asarray([v for v in vs if v is not None and np.isfinite(v)], float) for vs in values]
    pooled = np.concatenate(finite) if finite else np.zeros(0)
    bins = np.histogram_bin_edges(pooled, bins=30) if pooled.size else 10
    for k, (label, vs) in enumerate(zip(labels, finite)):
        if not vs.size:
            continue
        hist.hist(vs, bins=bins, histtype="step", linewidth=1.5, label=label, color=run_colour(k))
        xs = np.sort(vs)
        cdf.step(xs, np.arange(1, xs.size + 1) / xs.size, where="post", label=label, color=run_colour(k))
    hist.set_xlabel(f"{metric} per image")
    hist.set_ylabel("images")
    cdf.set_xlabel(f"{metric} per image")
    cdf.set_ylabel("fraction of images ≤ x")
    hist.set_title("histogram", fontsize="small")
    cdf.set_title("cumulative", fontsize="small")
    for ax in (hist, cdf):
        ax.spines[["top", "right"]].set_visible(False)
    cdf.legend(fontsize="small", frameon=False, loc="lower right")
    return _svg(fig, "distribution")


def scatter(label_a: str, label_b: str, a: Sequence[float | None], b: Sequence[float | None],
            names: Sequence[str], links: Sequence[str | None], groups: Sequence[str] | None = None,
            metric: str = "SAD", salt: str = "scatter") -> str:
    """Per image, ``metric`` of run A (x) against run B (y); each point links to ``links[i]``
    (an anchor of the gallery; None: not in the gallery) and is coloured by ``groups[i]``."""
    fig = _figure(3.6, 3.4)
    ax = fig.add_subplot()
    keep = [i for i in range(len(names)) if a[i] is not None and b[i] is not None]
    xs, ys = np.array([a[i] for i in keep], float), np.array([b[i] for i in keep], float)
    titles = {}
    categories = list(dict.fromkeys(groups[i] for i in keep)) if groups else [None]
    for c, category in enumerate(categories):
        chosen = [j for j, i in enumerate(keep) if groups is None or groups[i] == category]
        points = ax.scatter(xs[chosen], ys[chosen], s=14, alpha=0.8, label=category,
                            color=GROUP_COLOURS[c % len(GROUP_COLOURS)] if groups else "#444")
        points.set_urls([links[keep[j]] for j in chosen])
        for j in chosen:
            if links[keep[j]]:
                titles[links[keep[j]]] = f"{names[keep[j]]}: {xs[j]:.3g} vs {ys[j]:.3g}"
    top = max(float(xs.max()) if xs.size else 1.0, float(ys.max()) if ys.size else 1.0) * 1.05 or 1.0
    ax.plot([0, top], [0, top], color="#999", linewidth=0.8, linestyle="--")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal")
    ax.set_xlabel(f"{metric}: {label_a}")
    ax.set_ylabel(f"{metric}: {label_b}")
    ax.set_title(f"below the line: {label_b} better", fontsize="small")
    if groups and len(categories) > 1:
        ax.legend(fontsize="x-small", frameon=False, markerscale=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, salt, titles)
