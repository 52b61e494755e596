"""Recall's figures, drawn from artefacts: per run, across runs (the paper's Figs 1-2), and the sweep aggregate
(final loss against alpha with the Bayes risk H(alpha)).

Reference: Nguyen & Nguyen-Tang (2025), Figs 1-2; docs page "recall", section "Reproducing the figures".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from icljax import plots
from icljax.experiment.api import FigureGroups, FigureInput
from icljax.experiment.markdown import markdown_table
from icljax.experiment.report import grouped
from icljax.results.recall.config import RecallConfig
from icljax.theory import recall as theory


def figures(inp: FigureInput) -> list[str]:
  """Losses with H(alpha), the probability of the output or noise token, layer-wise logits.

  Args:
    inp: the run's artefacts.

  Returns:
    Figure paths.

  Reference: Nguyen & Nguyen-Tang (2025), Figs 1-2 and 10-12 (one run's panels); docs page "recall", section
  "Reproducing the figures".
  """
  alpha = inp.config.alpha
  out = [plots.curves(inp.fig_dir / "loss.png", inp.metrics, ["loss", "pop_loss", "test_loss"],
                      references={"Bayes risk H(alpha)": inp.summary["scalars"]["bayes_risk"]},
                      title=inp.summary["scalars"]["setting"], ylabel="cross-entropy")]
  prob = "pop_p_noise" if alpha > 0 else "pop_p_output"
  out.append(plots.curves(inp.fig_dir / "probability.png", inp.metrics, [prob, prob.replace("pop", "test")],
                          references={"alpha" if alpha > 0 else "1": alpha or 1.0},
                          title="Pr(noise token)" if alpha > 0 else "Pr(output token)", ylabel="mean prob"))
  if "law_M" in inp.arrays:
    m = inp.arrays["law_M"]
    out.append(plots.points_on_curves(
        inp.fig_dir / "finite_law.png", {"mean over seeds' training sets": (m, 2 * m * inp.arrays["law_mean"], m,
                                                                           2 * m * inp.arrays["law_exact"])},
        references={"1/(2M) (the paper)": (m, np.ones_like(m))}, xlabel="M (training sentences)",
        ylabel="2M E[KL(alpha || alpha_hat)]", logx=True, xticks=[int(v) for v in m],
        title="finite-sample excess x 2M (line: exact binomial expectation)"))
  out.append(plots.curves(inp.fig_dir / "logits.png", inp.metrics, ["xi_A_y", "xi_A_max", "xi_F_tau", "xi_F_max"],
                          title="layer-wise logits (attention -> y, feed-forward -> tau)", ylabel="mean logit"))
  return out


def _label(cfg: RecallConfig) -> str:
  kind = {"origin": "Origin", "reparam": "Reparam", "reparam_w": "Reparam"}[cfg.model]
  att = cfg.attention.capitalize()
  return f"{kind}-{att}{'-W' if cfg.model == 'reparam_w' else ''}-{'FA' if cfg.kappa else 'F'}"


def group_figures(out_dir: Path, groups: FigureGroups[RecallConfig]) -> list[str]:
  """One figure per group of runs (Fig. 1 noiseless / noisy rows, Fig. 2 finite sample): population loss,
  unseen-output test loss and Pr(output) or Pr(noise).

  Args:
    out_dir: folder for the figures.
    groups: figure name -> ``(config, metrics rows, summary)`` of each run drawn in it.

  Returns:
    Figure paths.

  Reference: Nguyen & Nguyen-Tang (2025), Fig. 1 (noiseless and noisy rows) and Fig. 2 (finite sample).
  """
  out = []
  for name, group in groups.items():
    alpha = group[0][0].alpha
    prob = "pop_p_noise" if alpha > 0 else "pop_p_output"
    titles = ["population loss", "unseen-output test loss", "Pr(noise token)" if alpha > 0 else "Pr(output token)"]
    series = {t: {_label(cfg): rows for cfg, rows, _ in group} for t in titles}
    out.append(plots.panels(Path(out_dir) / f"{name}.png", series, keys=["pop_loss", "test_loss", prob],
                            references=[{"H(alpha)": theory.entropy(alpha)}, {},
                                        {"alpha": alpha} if alpha > 0 else {"1": 1.0}],
                            title=name.replace("_", " ")))
  return out


def aggregate(workdir: Path, index: Sequence[Mapping[str, Any]], swept: Sequence[str]) -> str:
  """Sweep report: final population loss against alpha with the Bayes risk H(alpha), seeds' spread shown.

  Args:
    workdir: the sweep directory.
    index: the sweep's index rows.
    swept: the swept fields.

  Returns:
    The markdown of SWEEP.md.

  Reference: docs page "recall", section "Reproducing the figures" (the alpha sweep).
  """
  by = [f for f in swept if f != "seed"]
  table = []
  for key, group in grouped(index, by).items():
    finals = np.array([r["final_pop_loss"] for r in group])
    bayes = group[0]["bayes_risk"]
    table.append([*key, f"{bayes:.6f}", f"{finals.mean():.6f} ± {finals.std():.2g}",
                  f"{float(np.max(finals - bayes)):.3g}", len(finals)])
  alphas = [r.get("alpha", 0.0) for r in index]
  grid = np.linspace(0.0, 0.99, 199)
  plots.points_and_curve(Path(workdir) / "figures" / "final_loss_vs_alpha.png", alphas,
                         [r["final_pop_loss"] for r in index], grid, [theory.entropy(a) for a in grid],
                         xlabel="alpha", ylabel="final population loss", curve_label="Bayes risk H(alpha)",
                         title="final loss vs alpha (each point one run)")
  text = ("# Sweep: final loss against the Bayes risk H(alpha)\n\n![final loss](figures/final_loss_vs_alpha.png)\n\n"
          + markdown_table([*by, "H(alpha)", "final population loss (mean ± std)", "max excess", "seeds"], table)
          + "\n")
  return text
