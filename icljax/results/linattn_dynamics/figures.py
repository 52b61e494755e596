"""The linear-attention dynamics figures, drawn from artefacts, and the sweep aggregate (timings against the
initialisation scale)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from icljax import plots
from icljax.experiment import report
from icljax.experiment.api import FigureInput


def figures(inp: FigureInput) -> list[str]:
  """The staircase (trained replicas and the exact-gradient flow over the closed-form L(M_m)), the final Gamma in
  the eigenbasis against the closed form, and (ATTN_M) the escape time against ln(1/s).

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.

  Reference: docs page "linattn_dynamics", section "Reproducing the figures" (the paper's Figs. 1, 3 and 4).
  """
  fig, a = inp.fig_dir, inp.arrays
  flow = np.asarray(a["flow_loss"])
  rows = [{"step": r["step"], "trained, replica mean": r["pop_loss_mean"], "trained, replica 0": r["pop_loss_0"],
           "exact-gradient flow": float(flow[min(int(r["step"]), len(flow) - 1)])} for r in inp.metrics]
  levels = np.asarray(a["levels"])
  out = [plots.curves(fig / "staircase.png", rows, ["trained, replica mean", "trained, replica 0",
                                                    "exact-gradient flow"],
                      references={f"L(M_{m}) = {v:.4f}": float(v) for m, v in enumerate(levels)},
                      title="population loss of the trained Gamma; lines: in-context PCR plateaus",
                      ylabel="population loss", logx=True, logy=True),
         plots.matrices(fig / "gamma.png", {"trained (replica mean)": np.mean(a["gamma_rotated"], axis=0),
                                            "closed form": a["gamma_star_rotated"]},
                        title="final Gamma in the eigenbasis of Sigma (learned order)")]
  if "flow_dwell" in a:
    dwell, rank = np.asarray(a["flow_dwell"]), inp.config.rank
    m = np.arange(len(dwell))
    out.append(plots.points_and_curve(fig / "dwell.png", m, dwell, m, np.full(len(m), 0.2), xlabel="m",
                                      ylabel="dwell near L(M_m) (e-folds of t)", curve_label="conspicuous: 0.2",
                                      title=f"ATTN_S rank {rank}: where the exact-gradient flow rests", logy=True))
  if "escape_t_half" in a:
    x, t = np.asarray(a["escape_log_inv_init"]), np.asarray(a["escape_t_half"])
    slope = inp.summary["scalars"]["escape_slope_gd"]
    out.append(plots.points_and_curve(fig / "escape.png", x, t, x, t.mean() + slope * (x - x.mean()),
                                      xlabel="ln(1/s)", ylabel="t_half (tau)", curve_label=f"slope {slope:.4f} (GD)",
                                      title="ATTN_M: half-drop time against the init scale"))
  return out


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> str:
  """SWEEP.md: per grid point the flow's and the replicas' drop steps.

  Args:
    workdir: the sweep directory.
    index: the index rows.
    swept: the swept fields.

  Returns:
    Markdown text.

  Reference: docs page "linattn_dynamics", sections "power_law" and "escape_slope" (the timing laws a sweep over
    the init scale shows).
  """
  del workdir
  drops = sorted({k for r in index for k in r if k.startswith("flow_drop_")}, key=lambda k: int(k.split("_")[-1]))
  columns = {**{f"flow drop {k.split('_')[-1]}": k for k in drops},
             **{f"replica-mean drop {k.split('_')[-1]}": k.replace("flow", "replica") for k in drops}}
  return report.sweep_table("Sweep: linear-attention drop times (steps; crossings of the midpoints between "
                            "plateaus)", "ATTN_S: drop steps scale as 1/s (P8); ATTN_M: the drop step grows as "
                            "ln(1/s) (P6).", index, swept, columns)
