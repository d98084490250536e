"""The reviews' figures (issue 13): small deterministic SVGs drawn from the cells' committed figure data.

One figure per review point where a picture says more than the observation, every implementation in it:

- `scaling` (K07): the fitted scale ŝ at the witness's (α, r), (2α, r) and a padded rank, against the laws α/r and
  α/√r at those points;
- `init_distribution` (K29): the sample's quantiles (its empirical CDF) against the claimed family's CDF and the
  negative control's;
- `low_rank` (K12): σ_i/σ_1 of the measured update against the rank bound and the rounding bound.

The data is what the check committed (`Evidence.figure`, rounded to what a small plot resolves: fidelity.stable's
`plotted`), and the SVG is written with a fixed hash salt, text as text (no glyph outlines from this machine's
fonts) and no date or creator, so the same cells give the same bytes on every machine; the freshness gate compares
them like the reviews.
"""

from __future__ import annotations

import io
import math

FIGURE_KINDS = ("scaling", "init_distribution", "low_rank")
SIZE = (4.6, 2.6)  # inches: small, beside the text
MARKERS = "osD^vP*X"


def _figure():
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib.figure import Figure

    matplotlib.rcParams.update({"svg.hashsalt": "fidelity", "svg.fonttype": "none", "font.family": "DejaVu Sans",
                                "font.size": 7.5, "axes.titlesize": 8, "legend.fontsize": 6.5, "lines.linewidth": 1.0,
                                "path.simplify": False})
    fig = Figure(figsize=SIZE, layout="constrained")
    return fig, fig.add_subplot()


def _svg(fig) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return out.getvalue()


def _scaling(ax, title, cells):
    points = next(f["points"] for _, f in cells)
    labels = [f"α={a:g}, r={r:g}" for a, r, _, _ in points]
    xs = range(len(points))
    for text, law in (("α/r", lambda a, r: a / r), ("α/√r", lambda a, r: a / math.sqrt(r))):
        ax.plot(xs, [law(a, r) for a, r, _, _ in points], ls="", marker="_", ms=22, mew=1.2,
                color="0.6" if text == "α/√r" else "0.15", label=f"law {text}")
    width = 0.3 / max(1, len(cells))
    for i, (label, f) in enumerate(cells):
        ax.plot([x + (i - (len(cells) - 1) / 2) * width for x in range(len(f["points"]))],
                [p[2] for p in f["points"]], ls="", marker=MARKERS[i % len(MARKERS)], ms=4, label=f"{label}: ŝ")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("scale")
    ax.set_title(title)


def _init(ax, title, cells):
    import torch

    from fidelity.checks.init_distribution import FAMILIES

    family = cells[0][1]["family"]
    claimed_name, claimed_cdf, control_name, control_cdf = FAMILIES[family]
    grid = torch.linspace(-3.0, 3.0, 121, dtype=torch.float64)
    ax.plot(grid.tolist(), claimed_cdf(grid).tolist(), color="0.2", label=f"claimed {claimed_name}")
    ax.plot(grid.tolist(), control_cdf(grid).tolist(), color="0.55", ls="--", label=f"control {control_name}")
    probs = [0.02 * (i + 1) for i in range(49)]
    for i, (label, f) in enumerate(cells):
        ax.plot(f["quantiles"], probs, ls="", marker=MARKERS[i % len(MARKERS)], ms=2.5, label=label)
    ax.set_xlabel(f"'{cells[0][1]['role']}' entries, standardised")
    ax.set_ylabel("CDF")
    ax.set_title(title)


def _low_rank(ax, title, cells):
    rank, bound = cells[0][1]["rank"], cells[0][1]["bound"]
    for i, (label, f) in enumerate(cells):
        marker = MARKERS[i % len(MARKERS)]
        above = [(j + 1, s) for j, s in enumerate(f["sigma"]) if s is not None]
        below = [j + 1 for j, s in enumerate(f["sigma"]) if s is None]
        shift = (i - (len(cells) - 1) / 2) * 0.08
        line = ax.plot([j + shift for j, _ in above], [s for _, s in above], ls="", marker=marker, ms=3.5, label=label)
        if below:
            ax.plot([j + shift for j in below], [f["bound"]] * len(below), ls="", marker="v", ms=3.5,
                    color=line[0].get_color())
    ax.axhline(bound, color="0.55", ls="--", label="rounding bound (▼: below it)")
    ax.axvline(rank + 0.5, color="0.2", ls=":", label=f"rank bound {rank}")
    ax.set_yscale("log")
    ax.set_xlabel("i")
    ax.set_ylabel("σ_i / σ_1 of the update")
    ax.set_title(title)


DRAW = {"scaling": _scaling, "init_distribution": _init, "low_rank": _low_rank}


def draw(kind: str, title: str, cells: list[tuple[str, dict]]) -> str | None:
    """The SVG of one review point from its implementations' (label, figure data); None when no cell has data."""
    cells = [(label, f) for label, f in cells if f]
    if kind not in DRAW or not cells:
        return None
    fig, ax = _figure()
    DRAW[kind](ax, title, cells)
    ax.legend(loc="best", frameon=False)
    ax.grid(True, color="0.9", lw=0.5)
    return _svg(fig)
