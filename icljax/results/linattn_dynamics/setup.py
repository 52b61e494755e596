"""The linear-attention dynamics config, read once into frozen specs."""

from __future__ import annotations

import dataclasses

import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.models import linattn_dynamics as model
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


def parse(config: ml_collections.ConfigDict) -> DynamicsSetup:
  """Validates a ``linattn_dynamics`` config; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/linattn_dynamics.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  kind = validation.choice("config.model", config.model, model.KINDS)
  d = validation.integer("config.d", config.d, low=1, high=16)
  validation.choice("config.prior", config.prior, ("identity", "inv_cov"))   # the moments the theory covers
  task = validation.as_config_field(regression.make_spec, d, config.n, config.sigma, spectrum=config.spectrum,
                                    rotation=config.rotation, rotation_seed=config.rotation_seed, prior=config.prior)
  heads = validation.integer("config.heads", config.heads, low=1, high=64)
  rank = validation.integer("config.rank", config.rank, low=1, high=d)
  init_scale = validation.real("config.init_scale", config.init_scale, low=0.0, high=1.0, low_open=True)
  init_mode = validation.choice("config.init_mode", config.init_mode, model.INITS)
  if init_mode == "aligned" and kind != "merged":
    raise validation.ConfigError("config.init_mode", init_mode, "'random' for ATTN_S (the aligned init is ATTN_M's)")
  lr = validation.real("config.learning_rate", config.learning_rate, low=0.0, low_open=True)
  sample_size = validation.integer("config.sample_size", config.sample_size, low=d * d + 1)
  replicas = validation.integer("config.replicas", config.replicas, low=2, high=64)
  flow_inits = tuple(validation.positive_vector("config.flow_inits", config.flow_inits))
  if len(flow_inits) < 2 or len(set(flow_inits)) != len(flow_inits):
    raise validation.ConfigError("config.flow_inits", config.flow_inits, "at least two distinct positive multiples")
  noise = validation.real("config.noise_sigma", config.noise_sigma, low=0.0)
  eval_prompts = validation.integer("config.eval_prompts", config.eval_prompts, low=1)
  return DynamicsSetup(run=run, task=task, model=model.HeadsSpec(d, task.n, heads, kind, rank, init_scale, init_mode),
                       learning_rate=lr, sample_size=sample_size, replicas=replicas, flow_inits=flow_inits,
                       noise_sigma=noise, eval_prompts=eval_prompts)
