"""The chain-of-thought config, read once into frozen specs (its fields are declared in ``config.py``).

Reference: docs page "lsa_chain_of_thought", section "Setting".
"""

from __future__ import annotations

import dataclasses

from icljax import validation
from icljax.experiment import specs
from icljax.models import lsa_chain_of_thought as model
from icljax.results.lsa_chain_of_thought.config import CotConfig
from icljax.tasks import regression

# Theorem 4.2 needs a bounded spectrum: at x ~ N(0, 2 I), GD with eta = 0.5 diverges on about a quarter of the prompts
# (eta lambda_max(S) > 2), the out-of-range setting whose divergence rate the runs check.
UNSTABLE_SCALE = 2.0


@dataclasses.dataclass(frozen=True)
class CotSetup:
  """Everything a chain-of-thought run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the prompts (x ~ N(0, I), w* ~ N(0, I), noiseless).
    model: d, n, parameterisation, initialisation scale.
    eta: the step of the GD targets.
    cot_steps: k, the chain-of-thought steps of the teacher-forced loss.
    eval_steps: steps generated autoregressively at evaluation (>= k: the learned step is applied beyond k).
    optimizer: Adam or SGD on fresh batches.
    batch_size: fresh prompts per training step.
    eval_prompts: fresh prompts of every evaluation mean.
    ood_task: prompts with x ~ N(0, Sigma_ood) (Theorem 4.2's shift), or None.
    unstable_task: prompts with x ~ N(0, UNSTABLE_SCALE I), outside Theorem 4.2's range (None when ood_task is).

  Reference: Huang et al. (2025) section 3 (task and model) and Theorem 4.2 (the shifted prompts); docs page
  "lsa_chain_of_thought", section "Setting".
  """

  run: specs.RunSpec
  task: regression.RegressionSpec
  model: model.CotSpec
  eta: float
  cot_steps: int
  eval_steps: int
  optimizer: specs.OptimizerSpec
  batch_size: int
  eval_prompts: int
  ood_task: regression.RegressionSpec | None
  unstable_task: regression.RegressionSpec | None = None


def parse(config: CotConfig) -> CotSetup:
  """Reads a validated chain-of-thought config into specs; the rules that tie fields together raise
  ``ConfigError`` naming the field.

  Args:
    config: the typed config (every field already checked against its declaration).

  Returns:
    The setup.

  Raises:
    ConfigError: a rule that ties fields together is broken (eval_steps < cot_steps, L-BFGS on fresh batches, an
      out-of-distribution spectrum whose length is not d).

  Reference: docs page "lsa_chain_of_thought", sections "Setting" and "Fields".
  """
  if config.eval_steps < config.cot_steps:
    raise validation.ConfigError("config.eval_steps", config.eval_steps, f"an integer in [cot_steps = "
                                 f"{config.cot_steps}, 64]: the chain is generated at least as far as it was trained")
  if config.optimizer == "lbfgs":
    raise validation.ConfigError("config.optimizer", "lbfgs", "'adam' or 'sgd' (training draws fresh batches)")
  d, n = config.d, config.n
  ood_task = unstable_task = None
  if config.ood_spectrum:
    if len(config.ood_spectrum) != d:
      raise validation.ConfigError("config.ood_spectrum", config.ood_spectrum,
                                   f"a sequence of d = {d} numbers > 0, or () for no out-of-distribution check")
    ood_task = regression.make_spec(d, n, 0.0, spectrum=config.ood_spectrum)
    unstable_task = regression.make_spec(d, n, 0.0, spectrum=(UNSTABLE_SCALE,) * d)
  return CotSetup(run=specs.run_spec(config), task=regression.make_spec(d, n, 0.0),
                  model=model.CotSpec(d, n, config.parameterization, config.init_scale), eta=config.eta,
                  cot_steps=config.cot_steps, eval_steps=config.eval_steps, optimizer=specs.optimizer_spec(config),
                  batch_size=config.batch_size, eval_prompts=config.eval_prompts, ood_task=ood_task,
                  unstable_task=unstable_task)
