"""Matplotlib figures, always drawn from artefacts (metrics rows, saved arrays) and written atomically.

Figures use matplotlib's object API (``matplotlib.figure.Figure``), never pyplot: nothing here selects a backend
or touches a user's global matplotlib state.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from icljax import runs

Values = Sequence[float] | np.ndarray   # a curve's or points' coordinates: floats or a 1-D NumPy array


def _figure(figsize: tuple[float, float], ncols: int | None = None):
  """A figure and its axes: one axis, or a row of ``ncols`` axes as a (1, ncols) array."""
  fig = Figure(figsize=figsize)
  if ncols is None:
    return fig, fig.subplots()
  return fig, fig.subplots(1, ncols, squeeze=False)


def _label(ax, xlabel: str, ylabel: str, title: str, legend_size: int = 8) -> None:
  """Axis labels, title, grid and legend, the same on every line plot."""
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.set_title(title)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=legend_size)


def _save(fig, path: str | os.PathLike) -> str:
  buf = io.BytesIO()
  fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
  runs.atomic_write_bytes(path, buf.getvalue())
  return str(path)


def curves(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], keys: Sequence[str], *,
           x: str = "step", references: Mapping[str, float] | None = None, title: str = "",
           ylabel: str = "", logx: bool = False, logy: bool = False) -> str:
  """Line plot of ``rows[key]`` against ``rows[x]`` for each key, with horizontal reference lines, each in its own
  colour and dash (:func:`reference_styles`), never one of the curves' colours.

  Args:
    path: the PNG's path.
    rows: metrics rows (a row without a key plots NaN there).
    keys: the row fields to plot, one curve each.
    x: the row field on the x axis.
    references: label -> value of a horizontal line.
    title: the figure's title.
    ylabel: y-axis label (the x-axis label is ``x``).
    logx: log x axis.
    logy: log y axis.

  Returns:
    The path, as a string.

  Reference: docs page "concepts/runs", section "A run's workdir" (``figures/*.png``, drawn from artefacts).
  """
  fig, ax = _figure((6, 4))
  xs = np.array([r[x] for r in rows], dtype=float)
  for key in keys:
    ys = np.array([r.get(key, np.nan) for r in rows], dtype=float)
    ax.plot(xs, ys, label=key)
  refs = references or {}
  for (label, value), style in zip(refs.items(), reference_styles(len(refs))):
    ax.axhline(value, lw=1, label=label, **style)
  if logx:
    ax.set_xscale("log")
  if logy:
    ax.set_yscale("log")
  _label(ax, x, ylabel, title)
  return _save(fig, path)


REFERENCE_COLORS = ("k", "tab:gray", "tab:brown", "tab:olive", "tab:pink", "tab:cyan")
REFERENCE_DASHES = ("--", ":", "-.")


def reference_styles(n: int) -> list[dict[str, str]]:
  """Distinct colour-and-dash pairs for ``n`` reference lines (colours apart from the curves' default cycle).

  Args:
    n: how many reference lines.

  Returns:
    ``[{"color": ..., "ls": ...}]``, no two alike for ``n`` up to 18.

  Reference: docs page "concepts/runs", section "A run's workdir" (``figures/*.png``, drawn from artefacts).
  """
  return [{"color": REFERENCE_COLORS[i % len(REFERENCE_COLORS)],
           "ls": REFERENCE_DASHES[(i // len(REFERENCE_COLORS)) % len(REFERENCE_DASHES)]} for i in range(n)]


def matrices(path: str | os.PathLike, panels: Mapping[str, np.ndarray], title: str = "") -> str:
  """Heat maps of matrices side by side, sharing one symmetric colour scale, values printed in small cells.

  Args:
    path: the PNG's path.
    panels: panel title -> matrix (values are printed when it has at most 8 rows).
    title: the figure's title.

  Returns:
    The path, as a string.

  Reference: docs page "concepts/runs", section "A run's workdir" (``figures/*.png``, drawn from artefacts).
  """
  panels = {k: np.asarray(v, float) for k, v in panels.items()}
  vmax = max(float(np.max(np.abs(v))) for v in panels.values()) or 1.0
  fig, axes = _figure((3.6 * len(panels), 3.4), len(panels))
  for ax, (name, mat) in zip(axes[0], panels.items()):
    im = ax.imshow(mat, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_title(name, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    if mat.shape[0] <= 8:
      for (i, j), v in np.ndenumerate(mat):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
  fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
  if title:
    fig.suptitle(title)
  return _save(fig, path)


def landscape(path: str | os.PathLike, xi1: np.ndarray, xi2: np.ndarray, loss: np.ndarray, traj_xi1: np.ndarray,
              traj_xi2: np.ndarray, title: str = "") -> str:
  """Heat map of a loss over an (xi1, xi2) grid with a trajectory drawn on it (Li et al. Fig. 2 analogue).

  Args:
    path: the PNG's path.
    xi1: the grid's xi1 values (the first and last are the x limits).
    xi2: the grid's xi2 values (the first and last are the y limits).
    loss: the loss on the grid, shape (len(xi1), len(xi2)).
    traj_xi1: the trajectory's xi1 values.
    traj_xi2: the trajectory's xi2 values.
    title: the figure's title.

  Returns:
    The path, as a string.

  Reference: Li et al. (2024), Fig. 2 (the loss over the two-parameter 1-NN family); docs page "concepts/runs",
  section "A run's workdir" (``figures/*.png``, drawn from artefacts).
  """
  fig, ax = _figure((6, 4.5))
  im = ax.pcolormesh(xi1, xi2, np.asarray(loss).T, shading="auto", cmap="viridis")
  ax.contour(xi1, xi2, np.asarray(loss).T, levels=12, colors="w", linewidths=0.4)
  ax.plot(traj_xi1, traj_xi2, "r.-", ms=2, lw=1, label="GD trajectory")
  ax.set_xlim(xi1[0], xi1[-1])
  ax.set_ylim(xi2[0], xi2[-1])
  ax.set_xlabel("xi1")
  ax.set_ylabel("xi2")
  ax.set_title(title)
  ax.legend(fontsize=8)
  fig.colorbar(im, ax=ax, label="loss")
  return _save(fig, path)


def panels(path: str | os.PathLike, series: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
           keys: Sequence[str], references: Sequence[Mapping[str, float]] = (), title: str = "",
           x: str = "step") -> str:
  """One panel per entry of ``series`` (panel title -> {curve label -> metrics rows}), plotting ``keys[i]``.

  Args:
    path: the PNG's path.
    series: panel title -> {curve label -> metrics rows}.
    keys: the row field plotted in each panel, in the panels' order.
    references: per panel, label -> value of a dashed horizontal line (missing panels get none).
    title: the figure's title.
    x: the row field on the x axis.

  Returns:
    The path, as a string.

  Reference: docs page "concepts/runs", section "A run's workdir" (``figures/*.png``, drawn from artefacts).
  """
  fig, axes = _figure((4.6 * len(series), 3.6), len(series))
  for i, (ax, (panel, curves_)) in enumerate(zip(axes[0], series.items())):
    for label, rows in curves_.items():
      ax.plot([r[x] for r in rows], [r.get(keys[i], np.nan) for r in rows], label=label)
    for name, value in (references[i] if i < len(references) else {}).items():
      ax.axhline(value, ls="--", lw=1, color="k", label=name)
    ax.set_title(panel)
    ax.set_xlabel(x)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  if title:
    fig.suptitle(title)
  return _save(fig, path)


def scatter_vs_theory(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], theory: str, measured: str,
                      color_by: str | None = None, title: str = "") -> str:
  """Measured against theory value per row (one point per seed), with the identity line.

  Args:
    path: the PNG's path.
    rows: one dict per point.
    theory: the row field on the x axis.
    measured: the row field on the y axis.
    color_by: a row field whose values get one colour each (None: one colour).
    title: the figure's title.

  Returns:
    The path, as a string.

  Reference: docs page "concepts/runs", section "A run's workdir" (``figures/*.png``, drawn from artefacts).
  """
  fig, ax = _figure((5, 4.5))
  groups: dict[Any, list] = {}
  for r in rows:
    groups.setdefault(r.get(color_by) if color_by else "", []).append(r)
  for label, group in groups.items():
    ax.plot([g[theory] for g in group], [g[measured] for g in group], "o", ms=4,
            label=f"{color_by}={label}" if color_by else None)
  lo = min(min(r[theory], r[measured]) for r in rows)
  hi = max(max(r[theory], r[measured]) for r in rows)
  ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="theory")
  _label(ax, theory, measured, title, legend_size=7)
  return _save(fig, path)


def points_and_curve(path: str | os.PathLike, xs: Values, ys: Values, curve_x: Values, curve_y: Values, *,
                     xlabel: str, ylabel: str, curve_label: str, title: str = "", logy: bool = False) -> str:
  """Measured points over a theory curve (``logy``: log y axis, values below 1e-3 drawn at 1e-3).

  Args:
    path: the PNG's path.
    xs: the points' x values.
    ys: the points' y values.
    curve_x: the theory curve's x values.
    curve_y: the theory curve's y values.
    xlabel: x-axis label.
    ylabel: y-axis label.
    curve_label: the curve's legend label.
    title: the figure's title.
    logy: log y axis.

  Returns:
    The path, as a string (drawn by :func:`points_on_curves`).

  Reference: docs page "concepts/runs", section "A run's workdir" (``figures/*.png``, drawn from artefacts).
  """
  if logy:
    ys, curve_y = np.maximum(np.asarray(ys, float), 1e-3), np.maximum(np.asarray(curve_y, float), 1e-3)
  return points_on_curves(path, {"runs": (xs, ys, (), ())}, references={curve_label: (curve_x, curve_y)},
                          xlabel=xlabel, ylabel=ylabel, title=title, logy=logy)


def points_on_curves(path: str | os.PathLike, series: Mapping[str, tuple[Values, ...]], *, xlabel: str,
                     ylabel: str, references: Mapping[str, tuple[Values, Values]] | None = None,
                     title: str = "", logx: bool = False, logy: bool = False, xticks: Values | None = None) -> str:
  """Measured points over their theory curves, one colour per series, and dashed reference curves.

  Args:
    path: the PNG's path.
    series: label -> ``(xs, ys, curve_x, curve_y)``: measured points and the theory curve drawn in their colour
      (an empty curve draws points only).
    xlabel: x-axis label.
    ylabel: y-axis label.
    references: label -> ``(curve_x, curve_y)``, drawn dashed.
    title: the figure's title.
    logx: log x axis.
    logy: log y axis.
    xticks: x positions to label (plain numbers), e.g. the measured grid.

  Returns:
    The path, as a string.

  Reference: docs page "concepts/runs", section "A run's workdir" (``figures/*.png``, drawn from artefacts).
  """
  fig, ax = _figure((5.5, 4))
  for i, (label, (cx, cy)) in enumerate((references or {}).items()):
    ax.plot(cx, cy, "--", lw=1, color="k" if i == 0 else "0.5", label=label)
  for label, (xs, ys, cx, cy) in series.items():
    line = ax.plot(xs, ys, "o", ms=5, label=label)[0]
    if len(cx):
      ax.plot(cx, cy, "-", lw=1, color=line.get_color())
  if logx:
    ax.set_xscale("log")
  if xticks is not None:
    ax.set_xticks(list(xticks), [f"{t:g}" for t in xticks])
    ax.minorticks_off()
  if logy:
    ax.set_yscale("log")
  _label(ax, xlabel, ylabel, title)
  return _save(fig, path)
