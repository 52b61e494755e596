"""The linear-attention dynamics config, read once into frozen specs (its fields are declared in ``config.py``)."""

from __future__ import annotations

import dataclasses

from icljax import validation
from icljax.experiment import specs
from icljax.models import linattn_dynamics as model
from icljax.results.linattn_dynamics.config import LinattnConfig
from icljax.tasks import regression


@dataclasses.dataclass(frozen=True)
class DynamicsSetup:
  """Everything a linear-attention dynamics run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the regression prompts (anisotropic Sigma, prior, noise).
    model: ATTN_S or ATTN_M: heads, rank, init scale and mode (random, or ATTN_M's aligned one of Eq. 10).
    learning_rate: plain full-batch GD on the MSE (no momentum: t/tau = 2 lr step, the Euler step of Eq. 5).
    sample_size: P, the fixed prompts of each replica (the paper's protocol).
    replicas: independent samples trained from the same initialisation (their spread is the error bar).
    flow_inits: init multiples of the population-GD flows for the timing laws (P6: ATTN_M's ln(1/s) slope; P8:
      ATTN_S's 1/s law); every flow starts from the run's initial direction.
    noise_sigma: label noise of the extra population flow for P10 (same init; timings equal, levels shift).
    eval_prompts: prompts of the identity checks (literal forward pass, moments estimator).
  """

  run: specs.RunSpec
  task: regression.RegressionSpec
  model: model.HeadsSpec
  learning_rate: float
  sample_size: int
  replicas: int
  flow_inits: tuple[float, ...]
  noise_sigma: float
  eval_prompts: int


def parse(config: LinattnConfig) -> DynamicsSetup:
  """Reads a validated ``linattn_dynamics`` config into specs; the rules that tie fields together raise
  ``ConfigError`` naming the field.

  Args:
    config: the typed config (every field already checked against its declaration in ``config.py``).

  Returns:
    The setup.

  Reference: docs page "linattn_dynamics", section "Setting".
  """
  d = config.d
  if len(config.spectrum) != d:
    raise validation.ConfigError("config.spectrum", config.spectrum, f"a sequence of d = {d} finite numbers > 0")
  if config.rank > d:
    raise validation.ConfigError("config.rank", config.rank, f"an integer in [1, d = {d}]")
  if config.init_mode == "aligned" and config.model != "merged":
    raise validation.ConfigError("config.init_mode", config.init_mode,
                                 "'random' for ATTN_S (the aligned init is ATTN_M's)")
  if config.sample_size <= d * d:
    raise validation.ConfigError("config.sample_size", config.sample_size,
                                 f"an integer >= d^2 + 1 = {d * d + 1} (the sample's d^2 x d^2 moments full rank)")
  task = regression.make_spec(d, config.n, config.sigma, spectrum=config.spectrum, rotation=config.rotation,
                              rotation_seed=config.rotation_seed, prior=config.prior)
  heads = model.HeadsSpec(d, task.n, config.heads, config.model, config.rank, config.init_scale, config.init_mode)
  return DynamicsSetup(run=specs.run_spec(config), task=task, model=heads, learning_rate=config.learning_rate,
                       sample_size=config.sample_size, replicas=config.replicas, flow_inits=config.flow_inits,
                       noise_sigma=config.noise_sigma, eval_prompts=config.eval_prompts)
