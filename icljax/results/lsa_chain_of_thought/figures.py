"""The chain-of-thought figures, drawn from artefacts, and the sweep aggregate.

Reference: docs page "lsa_chain_of_thought", section "Reproducing the figures".
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
  """Weight error against the chain-of-thought step (generated, GD, exact, Monte Carlo, no CoT, out of
  distribution), the training losses, and the learned V and W beside the construction.

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.

  Reference: Huang et al. (2025) Fig. 2 (error against the CoT step), Fig. 3 (out of distribution) and the weight
  heat-map; docs page "lsa_chain_of_thought", section "Reproducing the figures".
  """
  fig, a, s = inp.fig_dir, inp.arrays, inp.summary["scalars"]
  exact = np.asarray(a["gd_exact"])
  series = {"CoT model, generated": a["e_hat"], "GD iterates (same prompts)": a["e_gd"],
            "CoT model, median": a["median_e_hat"]}
  if "ref_e" in a:
    series["E tr(I - eta S)^2k, Monte Carlo"] = a["ref_e"]
  if "ood_e_hat" in a:
    series.update({"CoT model, x ~ N(0, Sigma_ood)": a["ood_e_hat"], "GD, x ~ N(0, Sigma_ood)": a["ood_e_gd"]})
  if "ood_ref" in a:
    series["E tr(I - eta S)^2k, Sigma_ood, Monte Carlo"] = a["ood_ref"]
  rows = [{"k": k, **{name: float(v[k - 1]) for name, v in series.items()},
           **({"exact E tr(I - eta S)^2k": float(exact[k])} if k < len(exact) else {})}
          for k in range(1, len(a["e_hat"]) + 1)]
  v, w = np.asarray(a["cot_V"]), np.asarray(a["cot_W"])
  return [
      plots.curves(fig / "error_vs_step.png", rows, [*series, "exact E tr(I - eta S)^2k"], x="k",
                   references={f"no CoT, theory d(d+1)/(n+d+1) = {s['no_cot_error']:.4f}": s["no_cot_error"]},
                   title="weight error E|w_k - w*|^2 along the chain of thought", ylabel="E|w_k - w*|^2", logy=True),
      plots.curves(fig / "loss.png", inp.metrics, ["cot_loss", "no_cot_loss"], title="teacher-forced losses (probe "
                   "batch)", ylabel="loss", logx=True, logy=True),
      plots.matrices(fig / "weights.png", {"V (CoT model)": v, "W (CoT model)": w},
                     title="learned V, W (theory: V_31 W_13 = -eta I, V_31 W_24 = eta I, else 0)"),
  ]


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> str:
  """SWEEP.md: per grid point the weight error after k CoT steps against GD and the no-CoT optimum.

  Args:
    workdir: the sweep directory.
    index: the index rows.
    swept: the swept fields.

  Returns:
    Markdown text.

  Reference: docs page "lsa_chain_of_thought", section "Reproducing the figures" (the eta sweep).
  """
  del workdir
  return report.sweep_table("Sweep: chain of thought = GD iterates; without it, one step", "", index, swept,
                            {"E|w_hat_k - w*|^2": "err_cot_k", "GD E|w_k - w*|^2": "err_gd_k",
                             "last generated": "err_cot_last", "no CoT": "no_cot_error_measured",
                             "no CoT theory": "no_cot_error"})
