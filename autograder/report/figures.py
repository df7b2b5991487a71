"""Figures for the HTML reports: drawn with matplotlib's object API (no display, no pyplot state) and
returned as ``data:image/png;base64,...`` URIs, so that a page embeds them and needs no file or network.

Every label drawn here comes from the lab or the kit, never from a student; mathtext is off all the
same, so a ``$`` in a test's title is drawn as written.
"""
from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 6.4, 3.0, 100
STYLE = {"text.parse_math": False, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
GOOD, MIDDLE, BAD, INK = "#2e7d32", "#f9a825", "#c62828", "#1f4e79"


def _draw(height: float, draw: Callable[["Figure"], None]) -> str:
    """A new figure drawn by ``draw``, as a PNG data URI (matplotlib is imported only when a page has a figure)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, height))
        draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _finite(values: Sequence[float]) -> list[float]:
    """Values with infinities as NaN (drawn as gaps, like NaN)."""
    return [v if math.isfinite(v) else math.nan for v in values]


def curves(series: dict[str, Sequence[float]], xlabel: str = "epoch") -> str:
    """One line per curve (e.g. the training loss of each epoch), on one axis."""
    def draw(figure: "Figure") -> None:
        axes = figure.add_subplot()
        for label, values in series.items():
            axes.plot(range(1, len(values) + 1), _finite(values), marker="." if len(values) <= 50 else None,
                      label=label)
        axes.set_xlabel(xlabel)
        axes.grid(alpha=0.3)
        axes.legend(frameon=False)

    return _draw(HEIGHT, draw)


def histogram(edges: Sequence[float], counts: Sequence[int], xlabel: str, ylabel: str) -> str:
    """Bars over the bins ``edges[i]..edges[i + 1]`` (already counted, so the CSV holds the same numbers)."""
    def draw(figure: "Figure") -> None:
        axes = figure.add_subplot()
        widths = [b - a for a, b in zip(edges, edges[1:])]
        axes.bar(edges[:-1], counts, width=widths, align="edge", color=INK, edgecolor="white")
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.yaxis.get_major_locator().set_params(integer=True)

    return _draw(HEIGHT, draw)


def rates(labels: Sequence[str], values: Sequence[float], xlabel: str) -> str:
    """Horizontal bars of fractions in [0, 1] (e.g. each test's pass rate), coloured by how high they are."""
    def draw(figure: "Figure") -> None:
        axes = figure.add_subplot()
        rows = list(range(len(labels)))[::-1]
        colours = [GOOD if v >= 0.8 else MIDDLE if v >= 0.5 else BAD for v in values]
        axes.barh(rows, values, color=colours)
        axes.set_yticks(rows, [_short(label) for label in labels])
        axes.set_xlim(0, 1)
        axes.set_xlabel(xlabel)
        axes.xaxis.set_major_formatter(lambda x, _: f"{100 * x:.0f}%")

    return _draw(max(1.6, 0.28 * len(labels) + 0.8), draw)


def thresholds(rows: Sequence[tuple[str, float, float, float]]) -> str:
    """Each metric (label, value, full, zero) on its own scale: red where it earns nothing, amber where it
    earns part, green where it earns full marks, and a marker at the value."""
    def draw(figure: "Figure") -> None:
        for i, (label, value, full, zero) in enumerate(rows):
            axes = figure.add_subplot(len(rows), 1, i + 1)
            low, high = min(full, zero), max(full, zero)
            shown = [v for v in (value, low, high) if math.isfinite(v)]
            span = (max(shown) - min(shown)) or 1.0
            left, right = min(shown) - 0.15 * span, max(shown) + 0.15 * span
            worse, better = (left, right) if full > zero else (right, left)
            axes.axvspan(worse, zero, color=BAD, alpha=0.25)
            axes.axvspan(zero, full, color=MIDDLE, alpha=0.25)
            axes.axvspan(full, better, color=GOOD, alpha=0.25)
            if math.isfinite(value):
                axes.plot([value], [0.5], marker="v", markersize=11, color=INK)
            axes.set_xlim(left, right)
            axes.set_ylim(0, 1)
            axes.set_yticks([])
            axes.set_title(_short(label), loc="left", fontsize=9)
        figure.tight_layout()

    return _draw(0.75 * len(rows) + 0.5, draw)


def _short(text: str, size: int = 48) -> str:
    """``text`` cut to ``size`` characters, with an ellipsis if it was longer."""
    return text if len(text) <= size else text[:size - 1] + "…"
