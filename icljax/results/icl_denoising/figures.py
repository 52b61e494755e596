"""In-context denoising figures, drawn from artefacts: the trained gamma against gamma*_L, the softmax valley with
the trained points, the trained matrices, the training curves, Fig. 5's risks; the main job's gamma-against-L
figure (Fig. 4(a) with the finite-L optimum) and the sweep aggregate.

Reference: Smart, Bietti & Sengupta (2025), Figs. 3-7; docs page "icl_denoising", section "Reproducing the
figures".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from icljax import plots
from icljax.experiment.api import FigureGroups, FigureInput
from icljax.experiment.markdown import markdown_table
from icljax.experiment.report import fmt, grouped
from icljax.results.icl_denoising.config import DenoisingConfig
from icljax.theory import icl_denoising_linear as linear_theory


def figures(inp: FigureInput) -> list[str]:
  """Per-run figures.

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.

  Reference: Smart, Bietti & Sengupta (2025), Figs. 3, 5 and 6; docs page "icl_denoising", section "Reproducing the
  figures".
  """
  s, a, d = inp.summary["scalars"], inp.arrays, inp.fig_dir
  refs = {"gamma*_L (finite L)": s["gamma_star"]}
  if s["gamma_limit"] is not None:
    refs["L -> infinity (eq. 10)"] = s["gamma_limit"]
  out = [plots.curves(d / "loss.png", inp.metrics, ["loss"], title=f"{inp.summary['name']}: training loss (both "
                      "denoisers, all replicas)", ylabel="summed mean squared error", logy=True),
         plots.curves(d / "gamma.png", inp.metrics, ["gamma_linear"], references=refs,
                      title="linear attention: <diag W_PV><diag W_KQ> (mean of replicas)", ylabel="gamma")]
  replicas = np.arange(len(a["gamma_replicas"]))
  out.append(plots.points_on_curves(
      d / "gamma_replicas.png", {"trained (each replica)": (replicas, a["gamma_replicas"], (), ())},
      references={k: ([0, replicas[-1]], [v, v]) for k, v in refs.items()}, xlabel="replica", ylabel="gamma",
      title="trained gamma against the finite-L optimum"))
  theorem = {} if s["task"] == "subspace" else {"Thm 3.1 (L -> infinity)": ([1.0 / inp.config.sigma_z_sq], [1.0],
                                                                              (), ())}
  out.append(plots.points_on_curves(
      d / "valley.png", {"trained softmax (|beta|, |alpha|)": (np.abs(a["beta_softmax"]), np.abs(a["alpha_softmax"]),
                                                             a["valley_beta"], a["valley_alpha"]), **theorem},
      xlabel="beta = <diag W_KQ>", ylabel="alpha = <diag W_PV>", logx=True,
      title=f"softmax attention on the finite-L valley alpha*(beta), L = {inp.config.L}"))
  out.append(plots.matrices(d / "matrices.png", {f"{k} {w}": a[f"{k}_{w}"] for k in ("linear", "softmax")
                                                  for w in ("W_PV", "W_KQ")}, title="replica 0: trained matrices"))
  if "fig5_risks" in a:
    sz = a["fig5_sigma_z_sq"]
    labels = ("1 energy step (the layer)", "50 energy steps", "nearest-token retrieval", "predict 0")
    out.append(plots.points_on_curves(
        d / "fig5.png", {k: (sz, a["fig5_risks"][:, i], (), ()) for i, k in enumerate(labels)}, logx=True,
        xlabel="sigma_z^2 (0.1: the authors' code; 10: Fig. 5's caption)", ylabel="risk",
        title=f"Fig. 5 setting (circle, L = 20): minima per prompt {np.round(a['fig5_minima'], 2).tolist()}"))
  return out


def group_figures(out_dir: Path, groups: FigureGroups[DenoisingConfig]) -> list[str]:
  """The main job's ``gamma_vs_L`` (Fig. 4(a)): the trained gamma at each L against gamma*_L and its limit.

  Args:
    out_dir: folder for the figures.
    groups: figure name -> ``(config, metrics rows, summary)`` of each run drawn in it.

  Returns:
    Figure paths.

  Reference: Smart, Bietti & Sengupta (2025), Fig. 4(a) and eq. (10); the finite-L curve is derived in the docs page
  "icl_denoising" (entry gamma_finite_L).
  """
  out = []
  for name, group in groups.items():
    cfg = group[0][0]
    d, s0, sz = cfg.d, cfg.sigma0_sq, cfg.sigma_z_sq
    pts = sorted((c.L, float(s["scalars"]["gamma_trained"])) for c, _, s in group)
    grid = np.geomspace(max(pts[0][0] / 2, 1), pts[-1][0] * 2, 100)
    curve = [linear_theory.linear_gamma_star(d, L, s0, sz) for L in grid]
    out.append(plots.points_on_curves(
        Path(out_dir) / f"{name}.png", {"trained (mean of replicas)": ([p[0] for p in pts], [p[1] for p in pts],
                                                                      grid, curve)},
        references={"L -> infinity (eq. 10)": (grid, np.full_like(grid, linear_theory.linear_gamma_limit(s0, sz)))},
        xlabel="L (clean context tokens)", ylabel="<diag W_PV><diag W_KQ>", logx=True,
        title=f"linear attention: trained gamma vs gamma*_L (d = {d}, sigma0^2 = {s0:g}, sigma_z^2 = {sz:g})"))
  return out


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> str:
  """Sweep report: trained gamma against gamma*_L and the run's status at every grid point.

  Args:
    workdir: the sweep directory.
    index: the sweep's index rows.
    swept: the swept fields.

  Returns:
    The markdown of SWEEP.md.

  Reference: docs page "icl_denoising", section "Reproducing the figures" (the Fig. 4(a) sweep).
  """
  by = [f for f in swept if f != "seed"]
  table = []
  for key, group in grouped(index, by).items():
    trained = np.array([float(r["gamma_trained"]) for r in group])
    table.append([*key, fmt(group[0]["gamma_star"]), fmt(trained.mean()),
                  ", ".join(sorted({str(r.get("status", "")) for r in group}))])
  plots.scatter_vs_theory(Path(workdir) / "figures" / "gamma.png", index, "gamma_star", "gamma_trained",
                          color_by=by[0] if by else None, title="linear attention: trained gamma vs gamma*_L")
  return ("# Sweep: in-context denoising, trained gamma vs the finite-L optimum\n\n![gamma](figures/gamma.png)\n\n"
          + markdown_table([*by, "gamma*_L", "trained gamma (mean of seeds)", "status"], table) + "\n")
