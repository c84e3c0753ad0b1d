"""The summary's charts as PNG files: stance shares per group (bars with 95% intervals) and stance
over time per group (lines with interval bands, one panel per group)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stance.corpus.shares import Shares
from stance.eval.plots import _pyplot, _save

COLORS = {"pro_russia": "#c0392b", "pro_us": "#2e6fb7", "neutral": "#8c8c8c"}
MAX_GROUPS = 20
MAX_PANELS = 9


def _color(label: str, i: int) -> str:
    return COLORS.get(label, f"C{i}")


def shares_png(groups: Sequence[tuple[str, Shares]], labels: Sequence[str], path: str | Path,
               title: str) -> Path:
    """One row of bars per group (the largest `MAX_GROUPS`), one bar per label."""
    plt = _pyplot()
    groups = sorted(groups, key=lambda g: -g[1].n)[:MAX_GROUPS][::-1]
    height = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.55 * len(groups) * max(1, len(labels) / 3)))
    y = np.arange(len(groups))
    for i, label in enumerate(labels):
        share = np.array([s.share[i] for _, s in groups])
        err = np.array([[s.share[i] - s.low[i], s.high[i] - s.share[i]] for _, s in groups]).T
        ax.barh(y + (i - (len(labels) - 1) / 2) * height, share, height, xerr=err, capsize=2,
                color=_color(label, i), label=label)
    ax.set_yticks(y, [f"{name} (n={s.n})" for name, s in groups])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of scored passages (95% bootstrap interval)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def over_time_png(series: dict[str, list[tuple[str, Shares]]], labels: Sequence[str],
                  path: str | Path, title: str) -> Path:
    """Per group (the `MAX_PANELS` largest), the share of each label per period."""
    plt = _pyplot()
    names = sorted(series, key=lambda n: -sum(s.n for _, s in series[n]))[:MAX_PANELS]
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False,
                             sharey=True)
    for ax, name in zip(axes.flat, names):
        points = sorted(series[name])
        x = np.arange(len(points))
        for i, label in enumerate(labels):
            share = np.array([s.share[i] for _, s in points])
            ax.plot(x, share, marker="o", markersize=3, color=_color(label, i), label=label)
            ax.fill_between(x, [s.low[i] for _, s in points], [s.high[i] for _, s in points],
                            color=_color(label, i), alpha=0.15, linewidth=0)
        step = max(1, len(points) // 6)
        ax.set_xticks(x[::step], [p for p, _ in points][::step], rotation=30, fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(f"{name} (n={sum(s.n for _, s in points)})", fontsize=9)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title)
    return _save(fig, path)
