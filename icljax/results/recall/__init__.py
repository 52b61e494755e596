"""Noisy in-context recall: one-layer linear/ReLU attention is Bayes-optimal (Nguyen & Nguyen-Tang 2025).

Reference: Nguyen & Nguyen-Tang (2025), arXiv 2505.15009, Lemma 3.1, Thm 3.2, Thm 5.4-5.6 (v3 numbering); docs page
"recall" (predictions P1-P11).
"""

from pathlib import Path

from icljax.experiment.api import Experiment, MainJobRun, RunRef
from icljax.results.recall import checks, config, figures, mutants, plan, setup, tolerances

KEY_STEPS = 500   # the key Fig. 1 runs: the first 500 steps of the full-size runs (same batches, same checks)
_FIRST = (f"the first {KEY_STEPS} of the archive run's 2000 NGD steps (the same batches: batch t is drawn from "
          "fold_in(data_key, t))")
REDUCED = {"reparam": _FIRST + "; every check of the reparameterised model is due by then, with the same error bars",
           "unconstrained": _FIRST + "; the unconstrained model's claims (test_grows, layer_split) are read at step "
           f"{KEY_STEPS}, where it is still moving: the archive reads them at step 2000"}


def _main_job() -> tuple[MainJobRun, ...]:
  """The headline (Reparam-Linear-FA at alpha = 0.5), the key figures (Fig. 1's rows over their first 500 steps,
  Fig. 2 at full size), then every other named variant at full size."""
  fig1 = [(config.variant_name(*m, alpha), "fig1_noisy" if alpha else "fig1_noiseless")
          for alpha in (0.0, 0.5) for m in (*config.FIG1, config.P10)]
  key = [MainJobRun("recall", (name,), {"steps": KEY_STEPS}, figure=figure, key=True,
                    reduced=REDUCED["reparam" if name.startswith("reparam_") and not name.startswith("reparam_w")
                                    else "unconstrained"])
         for name, figure in fig1 if not name.startswith("origin_linear_F_")]
  fig2 = [MainJobRun("recall", (f"finite_{m}_relu_FA",), figure="fig2_finite", key=True)
          for m in ("reparam", "reparam_w", "origin")]
  figure = dict(fig1)
  for alpha in (0.2, 0.8):
    figure.update({f"{m}_FA_a{alpha:g}": f"noisy_a{alpha:g}" for m in ("reparam_linear", "reparam_relu",
                                                                       "reparam_w_linear", "origin_linear")})
  rest = [MainJobRun("recall", (name,), figure=figure.get(name, "")) for name in config.VARIANTS
          if name != "reparam_linear_FA_a0.5" and not name.startswith("finite_")]
  return (MainJobRun("recall", figure="fig1_noisy"), *key, *rest, *fig2)


EXPERIMENT = Experiment(
    name="recall",
    title="Result 3: linear/ReLU attention is Bayes-optimal for noisy in-context recall (Nguyen & Nguyen-Tang 2025)",
    claim=("The reparameterised one-layer transformer with linear or ReLU attention, trained by normalised GD, "
           "reaches the Bayes risk H(alpha) at a linear rate and generalises to unseen output tokens; attention "
           "recalls the output and the feed-forward layer stores the noise association; softmax attention and the "
           "kappa = 0 feed-forward plateau above it; unconstrained models fit the training distribution but not "
           "unseen outputs."),
    config=config.RecallConfig,
    presets=config.PRESETS,
    variants=config.VARIANTS,
    quick=config.QUICK,
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "alpha"),
    static=lambda cfg: {"noisy": cfg.alpha > 0},
    run_name=config.run_name,
    aggregate=figures.aggregate,
    group_figures=figures.group_figures,
    main_job=_main_job(),
    gate=RunRef("recall", (), {"alpha": 0.2, "steps": 200, "H": 64, "eval_size": 1024, "test_size": 256}),
    mutants=mutants.MUTANTS,
    page=Path(__file__).with_name("page.md"),
)
