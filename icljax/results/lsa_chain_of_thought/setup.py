"""The chain-of-thought config, read once into frozen specs."""

from __future__ import annotations

import dataclasses

import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.models import cot_lsa as model
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
    batch_size, eval_prompts: sample sizes.
    ood_task: prompts with x ~ N(0, Sigma_ood) (Theorem 4.2's shift), or None.
    unstable_task: prompts with x ~ N(0, UNSTABLE_SCALE I), outside Theorem 4.2's range (None when ood_task is).
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


def parse(config: ml_collections.ConfigDict) -> CotSetup:
  """Validates an ``lsa_chain_of_thought`` config; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/lsa_chain_of_thought.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  d = validation.integer("config.d", config.d, low=1, high=16)
  n = validation.integer("config.n", config.n, low=1)
  task = regression.make_spec(d, n, 0.0)
  eta = validation.real("config.eta", config.eta, low=0.0, high=2.0, low_open=True, high_open=True)
  cot_steps = validation.integer("config.cot_steps", config.cot_steps, low=1, high=32)
  eval_steps = validation.integer("config.eval_steps", config.eval_steps, low=cot_steps, high=64)
  kind = validation.choice("config.parameterization", config.parameterization, model.PARAMETERIZATIONS)
  init_scale = validation.real("config.init_scale", config.init_scale, low=0.0, low_open=True)
  optimizer = specs.optimizer_spec(config)
  if optimizer.optimizer == "lbfgs":
    raise validation.ConfigError("config.optimizer", "lbfgs", "'adam' or 'sgd' (training draws fresh batches)")
  sizes = specs.positive_ints(config, "batch_size", "eval_prompts")
  ood, ood_task, unstable_task = config.ood_spectrum, None, None
  if not (isinstance(ood, (tuple, list)) and len(ood) == 0):
    spectrum = validation.positive_vector("config.ood_spectrum", ood, length=d)
    ood_task = regression.make_spec(d, n, 0.0, spectrum=spectrum)
    unstable_task = regression.make_spec(d, n, 0.0, spectrum=(UNSTABLE_SCALE,) * d)
  return CotSetup(run=run, task=task, model=model.CotSpec(d, n, kind, init_scale), eta=eta, cot_steps=cot_steps,
                  eval_steps=eval_steps, optimizer=optimizer, batch_size=sizes["batch_size"],
                  eval_prompts=sizes["eval_prompts"], ood_task=ood_task, unstable_task=unstable_task)
