"""The lsa figures, drawn from artefacts: loss against L*, distance to the structure, heat maps of B, the eta* grid;
and the sweep aggregate (learned step size against eta* at every grid point).

Reference: docs page "lsa", section "Reproducing the figures".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from icljax import plots, structure
from icljax.experiment.api import FigureGroups, FigureInput
from icljax.experiment.checks import Checker
from icljax.experiment.markdown import markdown_table
from icljax.experiment.report import fmt, grouped
from icljax.results.lsa.config import LsaConfig
from icljax.results.lsa.tolerances import TOLERANCES
from icljax.theory import lsa as theory


def figures(inp: FigureInput) -> list[str]:
  """Loss curve with L*, structure distances, B heat maps (whitened ones when Sigma != I).

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.

  Reference: docs page "lsa", section "Reproducing the figures".
  """
  scalars = inp.summary["scalars"]
  out = [plots.curves(inp.fig_dir / "loss.png", inp.metrics, ["loss"], references={"L* (theory)": scalars["L_star"]},
                      title=f"{inp.summary['name']}: training loss", ylabel="MSE", logy=True),
         plots.curves(inp.fig_dir / "B_error.png", inp.metrics, ["B_rel_err", "leak_u_x", "leak_m_21"],
                      title="distance to the predicted structure", ylabel="relative size", logy=True)]
  b, bt = inp.arrays["B"], inp.arrays["B_theory"]
  out.append(plots.matrices(inp.fig_dir / "B.png", {"learned B": b, "theory B": bt, "difference": b - bt},
                            title=scalars["setting"]))
  if "path_loss" in inp.arrays:
    rows = [{"t": float(t), "exact population loss": float(v)} for t, v in zip(inp.arrays["path_t"],
                                                                                inp.arrays["path_loss"])]
    out.append(plots.curves(inp.fig_dir / "landscape_path.png", rows, ["exact population loss"], x="t",
                            references={"L* (theory)": scalars["L_star"]},
                            title="exact loss on B_t = (1-t) B_trained + t B_theory", ylabel="MSE"))
  cov = inp.arrays["Sigma"]
  if not np.allclose(cov, np.eye(cov.shape[0])):
    out.append(plots.matrices(inp.fig_dir / "B_whitened.png",
                              {"S^1/2 B S^1/2 (learned)": structure.whiten(b, cov),
                               "S^1/2 B S^1/2 (theory)": structure.whiten(bt, cov)},
                              title="whitened: eta* I under the inv_cov prior"))
  return out


def group_figures(out_dir: Path, groups: FigureGroups[LsaConfig]) -> list[str]:
  """The main job's eta* grid (figure ``eta_grid``): learned step size tr(B)/d against n for each sigma^2, each
  sigma's eta*(n) = n/(n+d+1+sigma^2) through its points and the sigma-free n/(n+d+1) dashed beside them.

  Args:
    out_dir: folder for the figures.
    groups: figure name -> ``(config, metrics rows, summary)`` of each run drawn in it.

  Returns:
    Figure paths.

  Reference: Mahankali et al. (2023), Theorem 1 (eta* and its dependence on sigma^2); docs page "lsa", section
  "Reproducing the figures".
  """
  out = []
  for name, group in groups.items():
    d = group[0][0].d
    ns = sorted({cfg.n for cfg, *_ in group})
    grid = np.geomspace(min(ns[0], ns[-1] / 4), max(ns[-1], ns[0] * 4), 100)   # the key profile has one n
    series = {}
    for sigma in sorted({cfg.sigma for cfg, *_ in group}):
      runs_ = sorted((cfg.n, float(summary["scalars"]["B_diag_mean"])) for cfg, _, summary in group
                     if cfg.sigma == sigma)
      series[f"sigma^2 = {sigma**2:g}"] = ([n for n, _ in runs_], [v for _, v in runs_], grid,
                                          [theory.eta_star(n, d, sigma) for n in grid])
    out.append(plots.points_on_curves(
        Path(out_dir) / f"{name}.png", series, references={"n/(n+d+1) (sigma-free)": (grid, grid / (grid + d + 1))},
        xlabel="n (in-context examples)", ylabel="learned step size tr(B)/d", logx=True, xticks=ns,
        title=f"learned step vs eta* = n/(n+d+1+sigma^2), d = {d} (lines: eta*)"))
  return out


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> str:
  """Sweep report: learned step size tr(B)/d against eta* at every grid point, every seed checked.

  Args:
    workdir: the sweep directory.
    index: the sweep's index rows.
    swept: the swept fields.

  Returns:
    The markdown of SWEEP.md.

  Reference: docs page "lsa", section "Reproducing the figures" (sweeps).
  """
  by = [f for f in swept if f != "seed"]
  rows = [r for r in index if r.get("eta_theory") is not None]
  c = Checker(TOLERANCES)
  table = []
  for key, group in grouped(rows, by).items():
    values = np.array([float(r["B_diag_mean"]) for r in group])
    eta = float(group[0]["eta_theory"])
    worst = float(values[np.argmax(np.abs(values - eta))])
    check = c("step_size", "tr(B)/d at " + ", ".join(f"{f}={v}" for f, v in zip(by, key)), eta, worst,
              note=f"worst of {len(values)} seeds")
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    table.append([*key, fmt(eta), f"{fmt(values.mean())} ± {std:.2g}", f"{abs(worst - eta) / abs(eta):.2%}",
                  "pass" if check.passed else "**FAIL**"])
  plots.scatter_vs_theory(Path(workdir) / "figures" / "step_size.png", rows, "eta_theory", "B_diag_mean",
                          color_by=by[0] if by else None, title="learned step size vs eta* (each seed)")
  passed = sum(ch.passed for ch in c.checks)
  text = (f"# Sweep: learned step size vs eta* = n/(n+d+1+sigma^2)\n\n{passed}/{len(c.checks)} grid points within "
          f"{TOLERANCES['step_size'].value:.0%} of eta* for every seed.\n\n![step size](figures/step_size.png)\n\n"
          + markdown_table([*by, "eta*", "tr(B)/d mean ± std (seeds)", "max rel. error", "pass"], table) + "\n")
  return text
