"""Result 3: one-layer linear/ReLU attention is Bayes-optimal for noisy in-context recall (Nguyen & Nguyen-Tang
2025).

Reference: Nguyen & Nguyen-Tang (2025), arXiv 2505.15009 (predictions P1-P11 of the theorem's docs page).
"""

from icljax.configs import recall as recall_config
from icljax.experiment.api import Experiment, MainJobRun
from icljax.results.recall import checks, figures, mutants, plan, setup, tolerances


def _main_job() -> tuple[MainJobRun, ...]:
  """The default run (Reparam-Linear-FA at alpha = 0.5, the headline) and every named variant of the config."""
  names = [n for n in recall_config.VARIANTS if n != "reparam_linear_FA_a0.5"]
  return (MainJobRun("recall", None, "fig1_noisy"),
          *(MainJobRun("recall", n, recall_config.FIGURE.get(n, "")) for n in names))


EXPERIMENT = Experiment(
    name="recall",
    title="Result 3: linear/ReLU attention is Bayes-optimal for noisy in-context recall (Nguyen & Nguyen-Tang 2025)",
    claim=("The reparameterised one-layer transformer with linear or ReLU attention, trained by normalised GD, "
           "reaches the Bayes risk H(alpha) at a linear rate and generalises to unseen output tokens; attention "
           "recalls the output and the feed-forward layer stores the noise association; softmax attention and the "
           "kappa = 0 feed-forward plateau above it; unconstrained models fit the training distribution but not "
           "unseen outputs."),
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "alpha"),
    static=lambda cfg: {"noisy": cfg["alpha"] > 0},
    aggregate=figures.aggregate,
    group_figures=figures.group_figures,
    main_job=_main_job(),
    gate="recall:alpha=0.2,steps=200,H=64,eval_size=1024,test_size=256",   # not 0.5: gamma = 0 hides the noise
    mutants=mutants.MUTANTS,
)
