"""The Fig. 3 run's figures (from artefacts) and the main job's Fig. 3 across (N, d).

Reference: Li et al. (2024), Sec. 5, Fig. 3; docs page "nearest_neighbor_fixed_data", section "Reproducing the
figures".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from icljax import plots
from icljax.experiment.api import FigureGroups, FigureInput
from icljax.results.nearest_neighbor_fixed_data.config import FixedDataConfig


def with_epochs(config: FixedDataConfig, metrics: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
  """The metric rows with ``epoch`` = step x batch_size / dataset_size.

  Args:
    config: the run's typed config.
    metrics: its metric rows.

  Returns:
    The rows, each with its ``epoch`` added.

  Reference: Li et al. (2024), Sec. 5 (Fig. 3's abscissa is epochs over the data set of 1e4 prompts).
  """
  per_step = config.batch_size / config.dataset_size
  return [{**row, "epoch": row["step"] * per_step} for row in metrics]


def figures(inp: FigureInput) -> list[str]:
  """(xi1, xi2) of the chains against the population systems, losses, the relative gap, the off-family norm and the
  shifted-test MSE (chains' means).

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.

  Reference: docs page "nearest_neighbor_fixed_data", section "Reproducing the figures".
  """
  fig, rows = inp.fig_dir, with_epochs(inp.config, inp.metrics)
  return [
      plots.curves(fig / "trajectory.png", rows, ["W_xi1", "pop_xi1", "W_xi2", "pop_xi2"], x="epoch",
                   title="(xi1, xi2): full-W SGD chains vs the population system (means)", ylabel="value"),
      plots.curves(fig / "loss.png", rows, ["train_loss", "pop_loss"], x="epoch", logy=True,
                   title="training loss on the data set vs the population system's loss", ylabel="loss"),
      plots.curves(fig / "gap.png", rows, ["rel_gap_max"], x="epoch", references={"claim margin 5%": 0.05},
                   title="max over chains of |xi(W) - xi_pop| / max(1, |xi_pop|)", ylabel="relative gap"),
      plots.curves(fig / "off_family.png", rows, ["off_family"], x="epoch",
                   title="Frobenius norm of W off diag(xi1 I, 0, -xi2) (mean over chains)", ylabel="norm"),
      plots.curves(fig / "shift_mse.png", rows, ["shift_mse", "pop_shift_mse"], x="epoch", logy=True,
                   title=f"MSE against the 1-NN label, {inp.config.shift} (1-NN rule: 0)", ylabel="MSE"),
  ]


def group_figures(out_dir: Path, groups: FigureGroups[FixedDataConfig]) -> list[str]:
  """The paper's Fig. 3 across the main job's runs: training loss (left) and shifted-test MSE (right) against
  epochs, one curve per (N, d, initialisation).

  Args:
    out_dir: folder for the figures.
    groups: figure name -> ``(config, metrics rows, summary)`` of each run drawn in it.

  Returns:
    Figure paths.

  Reference: Li et al. (2024), Sec. 5, Fig. 3 (left: training loss; right: MSE on the shifted test set of Appendix
  B).
  """
  out = []
  for name, group in groups.items():
    curves = {f"N={cfg.N}, d={cfg.d}, " + ("W_0" if cfg.init == "paper" else f"W_0 + N(0, {cfg.init_scale:g}^2)"):
              with_epochs(cfg, metrics) for cfg, metrics, _ in group}
    out.append(plots.panels(Path(out_dir) / f"{name}.png",
                            {"training loss on the data set": curves, f"MSE vs 1-NN label, {group[0][0].shift}":
                             curves}, ["train_loss", "shift_mse"], x="epoch",
                            title="Fig. 3 setting: full-W SGD on 1e4 fixed prompts (chains' means)"))
  return out
