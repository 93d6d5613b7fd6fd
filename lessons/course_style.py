"""The course's one figure style: every lesson starts its plots with

    import course_style
    course_style.use()

(the kernel of a notebook starts in ``lessons/``, so this file is importable there, with
minijax or with the real JAX alike). ``use()`` sets matplotlib's defaults so that a plain
``fig, ax = plt.subplots()`` is small, readable and light in the repository: a 5 x 3 inch
figure at 80 dpi is a PNG of about 15 KiB, instead of repeating ``figsize=..., dpi=...``
in every cell. Change the look of the whole course here, in one place.
"""
from __future__ import annotations

__all__ = ["RC", "use"]

#: matplotlib rc settings of the course (see ``matplotlib.rcParams`` for each key).
RC = {
    "figure.figsize": (5.0, 3.0),      # inches: fits beside the text in a notebook
    "figure.dpi": 80,                  # with figsize: 400 x 240 pixels
    "savefig.dpi": 80,
    "figure.autolayout": True,         # labels never clipped
    "figure.facecolor": "white",       # readable in JupyterLab's dark theme too
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": "medium",
    "font.size": 9,
    "legend.fontsize": "small",
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
}


def use():
    """Apply the course style to matplotlib (returns nothing, so a cell stays quiet).

    Call it after ``import matplotlib.pyplot as plt``: the notebook's inline backend sets
    its own defaults when pyplot is first imported, and ``use()`` must come after that.
    """
    import matplotlib
    import matplotlib.pyplot  # noqa: F401  (activates the inline backend first)

    matplotlib.rcParams.update(RC)
