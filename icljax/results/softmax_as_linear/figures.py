"""Figures of a softmax-as-linear run, drawn from its artefacts: the concentration of the operator on log-log axes
(the 1/L rate and its constant; the slower heavy-tail regime), the finite-L excess along the valley with the
trained point, the training trajectories, and (main job) the trained layer against L."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from icljax import runs
from icljax.experiment.api import FigureGroups, FigureInput
from icljax.theory import softmax_as_linear as theory


def _save(fig: Figure, path: Path) -> str:
  buf = io.BytesIO()
  fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
  runs.atomic_write_bytes(path, buf.getvalue())
  return str(path)


def _concentration(inp: FigureInput) -> str | None:
  keys = sorted(k for k in inp.arrays if k.startswith("concentration_lambda_"))
  if not keys:
    return None
  d, trace = int(inp.config["d"]), float(np.trace(inp.arrays["Sigma"]))
  fig = Figure(figsize=(6, 4.3))
  ax = fig.subplots()
  for key in keys:
    lam = float(key.rsplit("_", 1)[1])
    rows = inp.arrays[key]
    line = ax.errorbar(rows[:, 0], rows[:, 1], yerr=2 * rows[:, 2], fmt="o", ms=4, capsize=2,
                       label=f"lambda = {lam:g} (measured, 2 s.e.)")
    grid = np.geomspace(max(rows[:, 0].min(), 1), rows[:, 0].max(), 60)
    c1, c2 = theory.output_error_expansion(d, trace, lam)
    if np.isfinite(c1):
      curve = c1 / grid + (c2 / grid**2 if np.isfinite(c2) else 0.0)
      ax.plot(grid, curve, "-", lw=1, color=line[0].get_color(), label=f"C1/L + C2/L^2 (lambda = {lam:g})")
    else:
      ax.plot(grid, rows[-1, 1] * rows[-1, 0] / grid, ":", lw=1, color=line[0].get_color(), label="1/L (slope -1)")
  ax.set_xscale("log")
  ax.set_yscale("log")
  ax.set_xlabel("L (prompt length)")
  ax.set_ylabel("E |T[mu_L](z) - T[mu](z)|^2")
  ax.set_title("concentration of softmax attention on its L = inf limit")
  ax.grid(alpha=0.3, which="both")
  ax.legend(fontsize=7)
  return _save(fig, inp.fig_dir / "concentration.png")


def _valley(inp: FigureInput) -> str | None:
  if "valley_t" not in inp.arrays:
    return None
  s, L = inp.summary["scalars"], int(inp.config["L"])
  fig = Figure(figsize=(6, 4.3))
  ax = fig.subplots()
  ax.plot(inp.arrays["valley_t"], L * inp.arrays["valley_excess"], "-", color="k", lw=1,
          label=f"exact L excess on the valley A = sqrt(t) Sigma^-1 (L = {L})")
  if np.isfinite(s["F"]) and 0 < s["t_star"] < 0.5:
    ax.axhline(s["F"], ls="--", color="0.5", lw=1, label=f"F(t*) = {s['F']:.2f} (L = inf)")
    ax.axvline(s["t_star"], ls="--", color="C2", lw=1, label=f"t* = {s['t_star']:.4f}")
  ax.axvline(s["exact_finite_L"]["t"], ls=":", color="k", lw=1, label=f"exact t_L = {s['exact_finite_L']['t']:.4f}")
  ax.errorbar([s["softmax_t"]], [L * s["excess_softmax"][0]], xerr=[2 * s["softmax_t_se"]],
              yerr=[2 * L * s["excess_softmax"][1]], fmt="o", color="C3", capsize=3, label="trained softmax (2 s.e.)")
  ax.set_xlabel("t = (tr(Sigma A)/d)^2 (squared inverse temperature)")
  ax.set_ylabel("L x excess risk")
  ax.set_ylim(0, 3 * float(np.min(L * inp.arrays["valley_excess"])))
  ax.set_title("finite-L optimum: the trained layer sits at t_L, not at Thm 5.1's balanced t")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return _save(fig, inp.fig_dir / "valley.png")


def _trajectories(inp: FigureInput) -> str:
  fig = Figure(figsize=(10, 4))
  axes = fig.subplots(1, 2)
  steps = [r["step"] for r in inp.metrics]
  for name in ("softmax", "linear", "population"):
    if f"{name}_product" in inp.metrics[0]:
      axes[0].plot(steps, [r[f"{name}_product"] for r in inp.metrics], label=f"{name}: b tr(Sigma A)/d")
      axes[1].plot(steps, [r[f"{name}_t"] for r in inp.metrics], label=f"{name}: t")
  s = inp.summary["scalars"]
  axes[1].axhline(s["t_star"], ls="--", color="k", lw=1, label="t*")
  if s.get("exact_finite_L"):
    axes[1].axhline(s["exact_finite_L"]["t"], ls=":", color="k", lw=1, label="exact t_L")
  for ax, title in zip(axes, ("end-to-end product", "squared inverse temperature")):
    ax.set_xlabel("step")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  return _save(fig, inp.fig_dir / "trajectories.png")


def figures(inp: FigureInput) -> list[str]:
  """The run's figures.

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.
  """
  out = [_concentration(inp), _valley(inp), _trajectories(inp)]
  return [p for p in out if p]


def group_figures(out_dir: Path, groups: FigureGroups) -> list[str]:
  """The main job's trained layers against L (figure ``trained_vs_L``): t, 1 - product and L excess of each run
  with its exact finite-L reference and the first-order forms (t*, kappa/L, F(t*)), on log-log axes.

  Args:
    out_dir: folder for the figures.
    groups: figure name -> ``(config, metrics rows, summary)`` of each run drawn in it.

  Returns:
    Figure paths.
  """
  out = []
  for name, group in groups.items():
    runs_ = sorted(group, key=lambda g: int(g[0]["L"]))
    Ls = np.array([int(cfg["L"]) for cfg, _, _ in runs_], float)
    sc = [s["scalars"] for _, _, s in runs_]
    fig = Figure(figsize=(13, 4))
    axes = fig.subplots(1, 3)
    panels = (("t - t*", lambda x: x["softmax_t"] - x["t_star"], lambda x: x["softmax_t_se"],
               lambda x: x["exact_finite_L"]["t"] - x["t_star"], None),
              ("1 - b tr(Sigma A)/d", lambda x: 1 - x["softmax_product"], lambda x: x["softmax_product_se"],
               lambda x: 1 - x["exact_finite_L"]["product"], lambda x, n: x["kappa"] / n),
              ("L excess", lambda x: x["excess_softmax"][0], lambda x: x["excess_softmax"][1],
               lambda x: x["exact_finite_L"]["excess"], None))
    for ax, (title, val, err, exact, first) in zip(axes, panels):
      scale = Ls if title == "L excess" else np.ones_like(Ls)
      ax.errorbar(Ls, scale * [val(x) for x in sc], yerr=2 * scale * np.array([err(x) for x in sc]), fmt="o",
                  capsize=3, label="trained (2 s.e.)")
      ax.plot(Ls, scale * [exact(x) for x in sc], "k+", ms=10, label="exact finite-L optimum")
      if first is not None:
        ax.plot(Ls, [first(x, n) for x, n in zip(sc, Ls)], "--", color="0.5", label="kappa / L")
      if title == "L excess":
        ax.axhline(sc[0]["F"], ls="--", color="0.5", label="F(t*)")
      ax.set_xscale("log")
      if title != "L excess":
        ax.set_yscale("log")
      ax.set_xlabel("L")
      ax.set_title(title)
      ax.grid(alpha=0.3, which="both")
      ax.legend(fontsize=7)
    out.append(_save(fig, Path(out_dir) / f"{name}.png"))
  return out
