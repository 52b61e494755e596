"""The multiclass figures, drawn from artefacts, and the sweep aggregate (a row per grid point).

Reference: docs page "nearest_neighbor_multiclass", section "Reproducing the figures".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from icljax import plots
from icljax.experiment import report
from icljax.experiment.api import FigureInput


def figures(inp: FigureInput) -> list[str]:
  """Trajectories (SGD chains and the K-class reduced system), loss, accuracy, off-family norm, and the flow run's
  Lemma-12 ratio and late-time rate.

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.

  Reference: Athreya & Wang (2026), Figs. 1 and 3-4 (loss and accuracy along training), Lemma 12; docs page
  "nearest_neighbor_multiclass", section "Reproducing the figures".
  """
  fig, rows, arrays = inp.fig_dir, inp.metrics, inp.arrays
  extra = []
  if "lemma12_ratio" in arrays:
    threshold = [{"K-class step": float(t), "xi1 / xi2": float(v)}
                 for t, v in zip(arrays["lemma12_t"], arrays["lemma12_ratio"])]
    extra.append(plots.curves(fig / "lemma12.png", threshold, ["xi1 / xi2"], x="K-class step",
                              references={"7/15 (Lemma 12)": 7 / 15}, logx=True, ylabel="xi1 / xi2",
                              title="reduced K-class GD from sigma at Lemma 12's threshold"))
  if "rate_loss" in arrays:
    t, loss = arrays["rate_t"], arrays["rate_loss"]
    start = int(np.searchsorted(t, t[-1] / 10))
    log_law = loss[start] * np.log(t[start]) / np.log(t)         # c / ln t through the window's first point
    rate = [{"K-class step": float(a), "L_MC (reduced GD, this sigma)": float(b), "c / ln t (logarithmic rate)":
             float(c)} for a, b, c in zip(t, loss, log_law)]
    slope = inp.summary["scalars"].get("rate_slope", float("nan"))
    extra.append(plots.curves(fig / "rate.png", rate, list(rate[0])[1:], x="K-class step", logx=True, logy=True,
                              ylabel="L_MC", title=f"late-time rate: fitted log-log slope {slope:.3f}"))
  return [
      plots.curves(fig / "trajectory.png", rows, ["sgd_xi1", "sgd_xi2", "pop_xi1", "pop_xi2"],
                   title="(xi1, xi2): SGD chains (mean) and K-class population GD at eta", ylabel="value",
                   logx=True),
      plots.curves(fig / "loss.png", rows, ["pop_loss"], title="K-class population loss along GD", ylabel="L_MC",
                   logx=True, logy=True),
      plots.curves(fig / "accuracy.png", rows, ["accuracy"],
                   references={f"1/K = {1 / inp.config.K:.3f} (paper's baseline)": 1 / inp.config.K},
                   title="argmax agreement with the 1-NN class (uniform data)", ylabel="fraction", logx=True),
      plots.curves(fig / "off_family.png", rows, ["off_family", "label_columns_moved"],
                   title="SGD chains: norm off the family; label columns moved", ylabel="norm", logx=True),
  ] + extra


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> str:
  """SWEEP.md: per grid point the swept values, f, the final population loss, xi and the argmax agreement.

  Args:
    workdir: the sweep directory.
    index: the index rows.
    swept: the swept fields.

  Returns:
    Markdown text.

  Reference: docs page "nearest_neighbor_multiclass", section "Reproducing the figures" (the sweep over K).
  """
  del workdir
  return report.sweep_table("Sweep: multiclass 1-NN", "At equal (xi1, xi2) the K-class loss is f = (K-1)/K times the "
                            "binary one (Lemma 2); at equal steps the clock runs f times slower (P7).", index, swept,
                            {"f": "f", "L_MC": "final_pop_loss", "xi1": "xi1", "xi2": "xi2",
                             "accuracy": "final_accuracy"})
