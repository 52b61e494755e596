"""Result 2's figures, drawn from artefacts, and the sweep aggregate (population-loss curves per grid point).

Reference: docs page "nearest_neighbor", section "Reproducing the figures".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from icljax import plots, runs
from icljax.experiment.api import FigureInput
from icljax.experiment.markdown import markdown_table
from icljax.experiment.report import grouped


def figures(inp: FigureInput) -> list[str]:
  """Trajectory, losses, attention, off-family norm, shifted tests, xi ratio, landscape (those that apply).

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.

  Reference: Li et al. (2024), Figs. 2 and 3; docs page "nearest_neighbor", section "Reproducing the figures".
  """
  fig, metrics, arrays = inp.fig_dir, inp.metrics, inp.arrays
  first = metrics[0]
  out = [plots.curves(fig / "trajectory.png", metrics, [k for k in ("W_xi1", "W_xi2", "xi1", "xi2", "pop_xi1",
                                                                    "pop_xi2") if k in first],
                      title="(xi1, xi2) along GD", ylabel="value", logx=True)]
  loss_keys = [k for k in ("loss_W", "loss_xi", "pop_loss") if k in first]
  if loss_keys:
    out.append(plots.curves(fig / "loss.png", metrics, loss_keys, title="loss (1/2 MSE vs the 1-NN label)",
                            ylabel="loss", logx=True, logy=True))
  if "q_star" in first:
    out.append(plots.curves(fig / "attention.png", metrics, ["q_star", "q_self"],
                            title="attention on the nearest neighbour and on the query itself", ylabel="E[q]",
                            logx=True))
  if "off_family" in first:
    out.append(plots.curves(fig / "off_family.png", metrics, ["off_family"],
                            title="norm of W off diag(xi1 I, 0, -xi2)", ylabel="Frobenius norm", logx=True))
  shift_keys = [k for k in first if k.startswith("shift_mse[")]
  if shift_keys:
    out.append(plots.curves(fig / "shift_mse.png", metrics, shift_keys,
                            title="test MSE against the 1-NN label, shifted distributions", ylabel="MSE",
                            logx=True, logy=True))
    out.append(plots.curves(fig / "shift_agreement.png", metrics, [k.replace("mse", "agree") for k in shift_keys],
                            title="agreement with the 1-NN label", ylabel="fraction", logx=True))
  if "ratio" in arrays:
    rows = [{"t": float(t), **{f"sigma={s:g}": float(r[i]) for s, r in zip(arrays["ratio_sigmas"], arrays["ratio"])}}
            for i, t in enumerate(arrays["ratio_t"])]
    out.append(plots.curves(fig / "xi_ratio.png", rows, [k for k in rows[0] if k != "t"], x="t",
                            references={"7/15 (Li et al. Lemma 12)": 7 / 15}, title="xi1 / xi2 along reduced GD",
                            ylabel="xi1 / xi2", logx=True))
  if "grid_loss" in arrays:
    out.append(plots.landscape(fig / "landscape.png", arrays["grid_xi1"], arrays["grid_xi2"], arrays["grid_loss"],
                               arrays["xi1_t"], arrays["xi2_t"],
                               title=f"L(xi1, xi2), d = {inp.config.d}, N = {inp.config.N}, with the GD "
                                     "trajectory"))
  return out


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> str:
  """Sweep report: population-loss curves for every grid point (mean over seeds) and final losses.

  Args:
    workdir: the sweep directory.
    index: the sweep's index rows.
    swept: the swept fields.

  Returns:
    The markdown of SWEEP.md.

  Reference: docs page "nearest_neighbor", section "Reproducing the figures".
  """
  by = [f for f in swept if f != "seed"]
  merged: dict[float, dict[str, float]] = {}
  table, labels = [], []
  for key, group in grouped(index, by).items():
    metrics = [runs.read_jsonl(Path(workdir) / r["dir"] / runs.METRICS) for r in group]
    label = ", ".join(f"{f}={v}" for f, v in zip(by, key)) or "all"
    labels.append(label)
    for i, rows in enumerate(zip(*metrics)):
      merged.setdefault(rows[0]["step"], {"step": rows[0]["step"]})[label] = float(
          np.mean([m[i]["pop_loss"] for m in metrics]))
    finals = [m[-1]["pop_loss"] for m in metrics]
    table.append([*key, f"{np.mean(finals):.4f} ± {np.std(finals):.2g}", len(finals)])
  plots.curves(Path(workdir) / "figures" / "loss_curves.png", [merged[k] for k in sorted(merged)], labels,
               title="population loss along GD, per grid point (mean over seeds)", ylabel="loss", logx=True,
               logy=True)
  text = ("# Sweep: 1-NN loss curves\n\n![loss curves](figures/loss_curves.png)\n\n"
          + markdown_table([*by, "final population loss (mean ± std over seeds)", "seeds"], table) + "\n")
  return text
