"""The multi-layer figures, drawn from artefacts, and the sweep aggregate (loss against L).

Reference: docs page "lsa_multilayer", section "Reproducing the figures".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from icljax import plots
from icljax.experiment import report
from icljax.experiment.api import FigureInput


def figures(inp: FigureInput) -> list[str]:
  """Training loss against the best L-step PGD, the learned whitened steps against theirs, whitened A_l.

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths: ``loss.png`` (training loss against the best L-step PGD and the best constant step, or Theorem
    4's best member), ``steps.png`` (the learned whitened steps, and b_l, against the theory's), ``whitened_A.png``
    (the whitened preconditioners; the analogue of the paper's heat-maps of Sigma^1/2 A_l Sigma^1/2).

  Reference: Ahn et al. (2023), the experiments on three layers (the learned whitened A_l ~ a_l I, B_l ~ b_l I);
  docs page "lsa_multilayer", section "Reproducing the figures".
  """
  fig, rows, s, arrays = inp.fig_dir, inp.metrics, inp.summary["scalars"], inp.arrays
  L = len(arrays["a_star"])
  references = {f"best {L}-step PGD, B_l = 0: {s['loss_star']:.4f}": s["loss_star"]}
  if "loss_family" in s:
    references[f"Theorem 4's family (B_l = b_l I): {s['loss_family']:.2e}"] = s["loss_family"]
  else:
    references[f"best constant step {s['loss_constant']:.4f}"] = s["loss_constant"]
  return [
      plots.curves(fig / "loss.png", rows, ["loss"], references=references,
                   title="training loss", ylabel="MSE", logx=True, logy=True),
      plots.curves(fig / "steps.png", rows, [f"a_{layer}" for layer in range(L)] + [
          f"b_{layer}" for layer in range(len(arrays.get("b_star", ())))],
                   references={**{f"a* = {a:.3f}": float(a) for a in arrays["a_star"]},
                               **{f"b* = {b:.3f}": float(b) for b in arrays.get("b_star", ())}},
                   title="learned whitened steps tr(S^1/2 A_l S^1/2)/d (and tr(B_l)/d)", ylabel="value",
                   logx=True),
      plots.matrices(fig / "whitened_A.png",
                     {f"S^1/2 A_{layer} S^1/2": w for layer, w in enumerate(arrays["whitened_A"])},
                     title="whitened preconditioners (theory: a_l I)"),
  ]


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> str:
  """SWEEP.md: per grid point the eval MSE against the best L-step PGD and the best constant step (with B_l: the
  best member of Theorem 4's family and the learned b_0).

  Args:
    workdir: the sweep directory.
    index: the index rows.
    swept: the swept fields.

  Returns:
    Markdown text.

  Reference: docs page "lsa_multilayer", section "Reproducing the figures" (the sweep over L).
  """
  del workdir
  return report.sweep_table("Sweep: L-layer linear transformers vs L steps of preconditioned GD", "", index, swept,
                            {"eval MSE": "eval_mse", "best L-step PGD": "loss_star",
                             "best constant step": "loss_constant", "Theorem 4's best member": "loss_family",
                             "learned b_0": "b_trained_0"})
