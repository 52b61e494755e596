"""The multiclass 1-NN config, read once into frozen specs."""

from __future__ import annotations

import dataclasses

import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.models import softmax_attention_multiclass as model
from icljax.tasks import nearest_neighbor_multiclass as task

INITS = ("paper", "random")


@dataclasses.dataclass(frozen=True)
class MulticlassSetup:
  """Everything a multiclass run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: d, N, K.
    model: W_0 and its perturbation.
    eta: the SGD/GD step on W (xi1 moves by eta/d).
    coding: ``'centred'`` (the paper's) or ``'onehot'`` (breaks Lemma 2) for the full-W chains.
    replicas: independent full-W SGD chains and reduced population samples (mean +- standard error across them).
    batch_size, tau_samples, eval_prompts, enum_prompts: sample sizes.
    lemma12_steps, lemma12_prompts: the Lemma-12 run from sigma at its threshold (0 steps: none).
    references: digest P7/P11 rows ``(t, xi1, xi2, L_MC, accuracy)`` that apply (setting and steps).
    skipped: notes on the rows that do not.
  """

  run: specs.RunSpec
  task: task.MulticlassSpec
  model: model.MulticlassModelSpec
  eta: float
  coding: str
  replicas: int
  batch_size: int
  tau_samples: int
  eval_prompts: int
  enum_prompts: int
  lemma12_steps: int
  lemma12_prompts: int
  references: tuple
  skipped: tuple[str, ...]


def parse(config: ml_collections.ConfigDict) -> MulticlassSetup:
  """Validates an ``nn_multiclass`` config; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/nn_multiclass.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  spec = validation.as_config_field(task.make_spec, config.d, config.N, config.K)
  sigma = validation.real("config.sigma", config.sigma, low=0.0, low_open=True)
  eta = validation.real("config.eta", config.eta, low=0.0, low_open=True)
  init = validation.choice("config.init", config.init, INITS)
  init_scale = validation.real("config.init_scale", config.init_scale, low=0.0)
  coding = validation.choice("config.coding", config.coding, task.CODINGS)
  sizes = specs.positive_ints(config, "batch_size", "eval_prompts", "enum_prompts")
  sizes["replicas"] = validation.integer("config.replicas", config.replicas, low=2)
  tau_samples = validation.integer("config.tau_samples", config.tau_samples, low=100)
  validation.integer("config.K", config.K, low=2, high=12)
  setting = (config.d, config.N, config.K, float(config.sigma), float(config.eta))
  ref = tuple(config.reference_setting)
  rows, skipped = (), []
  for row in config.references:
    if len(row) != 5 or not isinstance(row[0], int) or row[0] < 1:
      raise validation.ConfigError("config.references", tuple(row), "rows (t >= 1, xi1, xi2, L_MC, accuracy)")
  if config.references and (setting != (*ref[:3], float(ref[3]), float(ref[4])) or init != "paper"):
    skipped.append(f"references: the digest's rows are for (d, N, K, sigma, eta) = {ref} from W_0; this run is "
                   f"{setting} (init {init}): skipped")
  elif config.references:
    rows = tuple(r for r in config.references if r[0] <= config.steps and r[0] % config.log_every == 0)
    skipped += [f"references: row at t = {r[0]} skipped (beyond the run's {config.steps} steps or not a logged "
                "step)" for r in config.references if r not in rows]
  return MulticlassSetup(run=run, task=spec, model=model.MulticlassModelSpec(spec.d, spec.K, sigma, init, init_scale),
                         eta=eta, coding=coding, replicas=sizes["replicas"], batch_size=sizes["batch_size"],
                         tau_samples=tau_samples, eval_prompts=sizes["eval_prompts"],
                         enum_prompts=sizes["enum_prompts"],
                         lemma12_steps=validation.integer("config.lemma12_steps", config.lemma12_steps, low=0),
                         lemma12_prompts=validation.integer("config.lemma12_prompts", config.lemma12_prompts, low=100),
                         references=rows, skipped=tuple(skipped))
