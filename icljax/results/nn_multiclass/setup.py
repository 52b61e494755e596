"""The multiclass 1-NN config, read once into frozen specs."""

from __future__ import annotations

import dataclasses

import ml_collections

from icljax import validation
from icljax.experiment import specs
from icljax.models import softmax_attention_multiclass as model
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor_multiclass as theory

INITS = ("paper", "random")


@dataclasses.dataclass(frozen=True)
class MulticlassSetup:
  """Everything a multiclass run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: d, N, K and the class law.
    model: W_0 and its perturbation.
    eta: the SGD/GD step on W (xi1 moves by eta/d).
    coding: the full-W chains' label code: ``'centred'`` (the paper's), ``'recentred'``, ``'unit'`` or ``'onehot'``.
    factor: Lemma 2's factor of the coding and class law (``theory.code_factor``); None where no factor exists (the
      reduced system then runs with the paper's f and the chains are not compared with it).
    replicas: independent full-W SGD chains and reduced population samples (mean +- standard error across them).
    batch_size, tau_samples, eval_prompts, enum_prompts: sample sizes (``enum_prompts`` 0: no enumeration).
    lemma12_steps: horizon (K-class steps of eta, for every K of the flow rows) of the reduced flow run from the
      run's sigma and from Lemma 12's threshold (0: none).
    lemma12_prompts, flow_replicas: its inner-product sample per replica and its replicas.
    references: the trained run's reference rows ``(t, xi1, xi2, L_MC, accuracy)`` that apply (setting and steps).
    flow_rows: whether the flow run's reference rows for K = 2, 3, 5, 10 apply (its d, N, sigma, eta).
    skipped: notes on the rows that do not.
  """

  run: specs.RunSpec
  task: task.MulticlassSpec
  model: model.MulticlassModelSpec
  eta: float
  coding: str
  factor: float | None
  replicas: int
  batch_size: int
  tau_samples: int
  eval_prompts: int
  enum_prompts: int
  lemma12_steps: int
  lemma12_prompts: int
  flow_replicas: int
  references: tuple
  flow_rows: bool
  skipped: tuple[str, ...]


def parse(config: ml_collections.ConfigDict) -> MulticlassSetup:
  """Validates an ``nn_multiclass`` config; raises ``ConfigError`` naming the first bad field.

  Args:
    config: the config (``icljax/configs/nn_multiclass.py`` lists every field and its range).

  Returns:
    The setup.
  """
  run = specs.run_spec(config)
  validation.integer("config.K", config.K, low=2, high=12)
  spec = validation.as_config_field(task.make_spec, config.d, config.N, config.K, tuple(config.class_probs))
  sigma = validation.real("config.sigma", config.sigma, low=0.0, low_open=True)
  eta = validation.real("config.eta", config.eta, low=0.0, low_open=True)
  init = validation.choice("config.init", config.init, INITS)
  init_scale = validation.real("config.init_scale", config.init_scale, low=0.0)
  coding = validation.choice("config.coding", config.coding, task.CODINGS)
  sizes = specs.positive_ints(config, "batch_size", "eval_prompts")
  sizes["enum_prompts"] = validation.integer("config.enum_prompts", config.enum_prompts, low=0)
  sizes["replicas"] = validation.integer("config.replicas", config.replicas, low=2)
  tau_samples = validation.integer("config.tau_samples", config.tau_samples, low=100)
  ref = tuple(config.reference_setting)
  paper = (spec.probs is None and coding == "centred" and init == "paper"
           and (config.d, config.N, config.K, float(config.sigma), float(config.eta))
           == (*ref[:3], float(ref[3]), float(ref[4])))
  rows, skipped = (), []
  for row in config.references:
    if len(row) != 5 or not isinstance(row[0], int) or row[0] < 1:
      raise validation.ConfigError("config.references", tuple(row), "rows (t >= 1, xi1, xi2, L_MC, accuracy)")
  if config.references and not paper:
    skipped.append(f"references: the rows are for (d, N, K, sigma, eta) = {ref} from W_0 with centred codes and "
                   f"uniform classes; this run is {(config.d, config.N, config.K, config.sigma, config.eta)} (init "
                   f"{init}, coding {coding}, class law {spec.probs or 'uniform'}): skipped")
  elif config.references:
    rows = tuple(r for r in config.references if r[0] <= config.steps and r[0] % config.log_every == 0)
    skipped += [f"references: row at t = {r[0]} skipped (beyond the run's {config.steps} steps or not a logged "
                "step)" for r in config.references if r not in rows]
  factor = theory.code_factor(spec.K, coding, spec.probs)
  if factor is None:
    skipped.append(f"sgd_tracks: {coding} codes under the class law {spec.probs or 'uniform'} have no Lemma-2 "
                   "factor (their mean is not zero), so the chains are not compared with a reduced system")
  return MulticlassSetup(run=run, task=spec, model=model.MulticlassModelSpec(spec.d, spec.K, sigma, init, init_scale),
                         eta=eta, coding=coding, factor=factor, replicas=sizes["replicas"],
                         batch_size=sizes["batch_size"], tau_samples=tau_samples,
                         eval_prompts=sizes["eval_prompts"], enum_prompts=sizes["enum_prompts"],
                         lemma12_steps=validation.integer("config.lemma12_steps", config.lemma12_steps, low=0),
                         lemma12_prompts=validation.integer("config.lemma12_prompts", config.lemma12_prompts, low=20),
                         flow_replicas=validation.integer("config.flow_replicas", config.flow_replicas, low=2),
                         references=rows, skipped=tuple(skipped),
                         flow_rows=(config.d, config.N, float(config.sigma), float(config.eta))
                         == (ref[0], ref[1], float(ref[3]), float(ref[4])))
