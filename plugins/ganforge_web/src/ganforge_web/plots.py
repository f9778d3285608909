"""Training curves as PNG pictures (matplotlib's Agg canvas, no pyplot state: safe in the
server's threads). The raw values are drawn faint, a smoothed line over them (TensorBoard's
convention), and the phases of the schedule are marked."""

from __future__ import annotations

import io

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f"]


def smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's debiased exponential moving average (weight 0: the values themselves)."""
    out, last, norm = [], 0.0, 0.0
    for v in values:
        last = last * weight + (1 - weight) * v
        norm = norm * weight + (1 - weight)
        out.append(last / norm)
    return out


def curves_png(series: dict, title: str, phases=(), smoothing: float = 0.8, width: float = 7.5,
               height: float = 3.2) -> bytes:
    """A PNG of ``series`` ({name: (steps, values)}) on one axis. With no points it says so."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    ax = fig.add_subplot()
    drawn = 0
    for i, (name, (steps, values)) in enumerate(sorted(series.items())):
        if not steps:
            continue
        colour = COLOURS[i % len(COLOURS)]
        many = len(values) > 8 and smoothing > 0
        ax.plot(steps, values, color=colour, alpha=0.25 if many else 1.0, linewidth=1, label=None if many else name)
        if many:
            ax.plot(steps, smooth(values, smoothing), color=colour, linewidth=1.8, label=name)
        drawn += 1
    for step, phase in list(phases)[1:] if len(phases) > 1 else []:
        ax.axvline(step, color="#999999", linestyle="--", linewidth=0.8)
        ax.annotate(phase, (step, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                    textcoords="offset points", fontsize=8, color="#666666")
    if drawn:
        ax.legend(loc="best", fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "nothing logged yet", ha="center", va="center", transform=ax.transAxes, color="#888888")
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlabel("step", fontsize=9)
    ax.grid(True, color="#e6e6e6", linewidth=0.7)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
