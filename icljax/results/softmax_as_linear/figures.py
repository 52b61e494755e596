"""Figures of a softmax-as-linear run, drawn from its artefacts: the concentration of the operator on log-log axes
(the 1/L rate and its constant; the slower heavy-tail regime), the finite-L excess along the valley with the
trained point, the training trajectories, and (main job) the trained layer against L.

Reference: docs page "softmax_as_linear", section "Reproducing the figures".
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from icljax import runs
from icljax.experiment.api import FigureGroups, FigureInput
from icljax.experiment.markdown import markdown_table
from icljax.results.softmax_as_linear.config import SalConfig
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
  d, trace = inp.config.d, float(np.trace(inp.arrays["Sigma"]))
  fig = Figure(figsize=(6, 4.3))
  ax = fig.subplots()
  for key in keys:
    lam = float(key.rsplit("_", 1)[1])
    rows = inp.arrays[key]
    line = ax.errorbar(rows[:, 0], rows[:, 1], yerr=2 * rows[:, 2], fmt="o", ms=4, capsize=2,
                       label=f"lambda = {lam:g} (measured, 2 s.e.)")
    grid = np.geomspace(max(rows[:, 0].min(), 8), rows[:, 0].max(), 60)   # the expansion is for large L
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
  s, L = inp.summary["scalars"], inp.config.L
  fig = Figure(figsize=(6, 4.3))
  ax = fig.subplots()
  ax.plot(inp.arrays["valley_t"], L * inp.arrays["valley_excess"], "-", color="k", lw=1,
          label=f"exact L excess on the valley A = sqrt(t) Sigma^-1 (L = {L})")
  if np.isfinite(s["F"]) and 0 < s["t_star"] < 0.5:
    ax.axhline(s["F"], ls="--", color="0.5", lw=1, label=f"F(t*) = {s['F']:.2f} (L = inf)")
    ax.axvline(s["t_star"], ls="--", color="C2", lw=1, label=f"t* = {s['t_star']:.4f}")
  ax.axvline(s["exact_finite_L"]["t"], ls=":", color="k", lw=1, label=f"exact t_L = {s['exact_finite_L']['t']:.4f}")
  inv = np.linalg.inv(inp.arrays["Sigma"])
  t_bal = float(np.trace(inv @ inv)) ** -0.5
  if t_bal < inp.arrays["valley_t"][-1]:
    ax.axvline(t_bal, ls="-.", color="C1", lw=1, label=f"Thm 5.1's balanced t = {t_bal:.4f}")
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
    if inp.config.optimizer == "sgd":   # plain GD: the fast phase and the slow drift on one axis
      ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  return _save(fig, inp.fig_dir / "trajectories.png")


def _design(inp: FigureInput) -> str | None:
  """The authors' sampler: the trained b A against Sigma^-1 (the stated design) and Gamma_ctx^-1 (the sampled one),
  each scaled to unit Frobenius norm."""
  if "Gamma_ctx" not in inp.arrays:
    return None
  unit = lambda m: m / np.linalg.norm(m)
  s = inp.summary["scalars"]
  panels = {"trained b A": unit(inp.arrays["softmax_b"] * inp.arrays["softmax_A"]),
            "Sigma^-1 (the paper's design)": unit(np.linalg.inv(inp.arrays["Sigma"])),
            "Gamma_ctx^-1 (what the sampler draws)": unit(np.linalg.inv(inp.arrays["Gamma_ctx"]))}
  fig = Figure(figsize=(12, 3.8))
  axes = fig.subplots(1, 3)
  top = max(np.abs(m).max() for m in panels.values())
  for ax, (title, m) in zip(axes, panels.items()):
    im = ax.imshow(m, cmap="RdBu_r", vmin=-top, vmax=top)
    ax.set_title(title, fontsize=9)
  fig.colorbar(im, ax=list(axes))
  fig.suptitle(f"the authors' sampler (context R Sigma R^T, query N(0, I)), L = {inp.config.L}: "
               f"L excess = {s['L_excess_softmax']:.1f}")
  return _save(fig, inp.fig_dir / "design.png")


def figures(inp: FigureInput) -> list[str]:
  """The run's figures.

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.

  Reference: docs page "softmax_as_linear", section "Reproducing the figures".
  """
  out = [_concentration(inp), _valley(inp), _trajectories(inp), _design(inp)]
  return [p for p in out if p]


def group_figures(out_dir: Path, groups: FigureGroups[SalConfig]) -> list[str]:
  """The main job's trained layers against L (figure ``trained_vs_L``): t, 1 - product and L excess of each run
  with its exact finite-L reference and the first-order forms (t*, kappa/L, F(t*)), on log-log axes.

  Args:
    out_dir: folder for the figures.
    groups: figure name -> ``(config, metrics rows, summary)`` of each run drawn in it.

  Returns:
    Figure paths.

  Reference: docs page "softmax_as_linear", section "Reproducing the figures" (trained_vs_L).
  """
  out = []
  for name, group in groups.items():
    runs_ = sorted(group, key=lambda g: g[0].L)
    Ls = np.array([cfg.L for cfg, _, _ in runs_], float)
    sc = [s["scalars"] for _, _, s in runs_]
    fig = Figure(figsize=(13, 4))
    axes = fig.subplots(1, 3)
    panels = (("t - t*", lambda x: x["softmax_t"] - x["t_star"], lambda x: x["softmax_t_se"],
               lambda x: x["exact_finite_L"]["t"] - x["t_star"], lambda x, n: x["second_order"]["tau1"] / n),
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
        ax.plot(Ls, [first(x, n) for x, n in zip(sc, Ls)], "--", color="0.5",
                label="tau1 / L (second order)" if title == "t - t*" else "kappa / L")
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


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> str:
  """A sweep's report: the trained softmax layer against its exact finite-L optimum at every point (t, product,
  L excess), with the run's status, and a figure of trained against exact.

  Args:
    workdir: the sweep directory.
    index: the sweep's index rows.
    swept: the swept fields.

  Returns:
    The markdown of SWEEP.md.

  Reference: docs page "softmax_as_linear", section "Reproducing the figures" (the sweep over L and sigma).
  """
  rows = [r for r in index if "exact_t" in r]
  table = [[*(r[f] for f in swept), f"{r['softmax_t']:.4f} +- {r['softmax_t_se']:.4f}", f"{r['exact_t']:.4f}",
            f"{r['softmax_product']:.4f} +- {r['softmax_product_se']:.4f}", f"{r['exact_product']:.4f}",
            f"{r['L_excess_softmax']:.2f}", f"{r['exact_L_excess']:.2f}", r["status"]] for r in rows]
  text = ("# Sweep: the trained softmax layer against its exact finite-L optimum\n\n"
          + markdown_table([*swept, "t (trained)", "t_L (exact)", "b a (trained)", "b a (exact)", "L excess (trained)",
                            "L excess (exact)", "status"], table) + "\n")
  if rows:
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    for ax, key in zip(axes, ("t", "product")):
      exact_v = np.array([r[f"exact_{key}"] for r in rows])
      ax.errorbar(exact_v, [r[f"softmax_{key}"] for r in rows], yerr=[2 * r[f"softmax_{key}_se"] for r in rows],
                  fmt="o", capsize=3, label="trained (2 s.e.)")
      ax.plot([exact_v.min(), exact_v.max()], [exact_v.min(), exact_v.max()], "k--", lw=1, label="exact")
      ax.set_xlabel(f"exact finite-L {key}")
      ax.set_ylabel(f"trained {key}")
      ax.grid(alpha=0.3)
      ax.legend(fontsize=7)
    _save(fig, Path(workdir) / "figures" / "trained_vs_exact.png")
    text += "\n![trained vs exact](figures/trained_vs_exact.png)\n"
  return text
