"""The multiclass 1-NN config, read once into frozen specs (its fields are declared in ``config.py``).

Reference: docs page "nearest_neighbor_multiclass", section "Setting".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from icljax import validation
from icljax.experiment import specs
from icljax.models import nearest_neighbor_multiclass as model
from icljax.results.nearest_neighbor_multiclass.config import MulticlassConfig
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor_multiclass as theory


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
    batch_size: fresh prompts per SGD step and chain.
    tau_samples: prompts per population sample of the reduced system.
    eval_prompts: fresh prompts of the loss, accuracy and W_0 checks.
    enum_prompts: prompts of the exact label enumeration (0: no enumeration).
    lemma12_steps: horizon (K-class steps of eta, for every K of the flow rows) of the reduced flow run from the
      run's sigma and from Lemma 12's threshold (0: none).
    lemma12_prompts: the flow run's inner-product prompts per replica.
    flow_replicas: the flow run's independent samples.
    references: the trained run's reference rows ``(t, xi1, xi2, L_MC, accuracy)`` that apply (setting and steps).
    flow_rows: whether the flow run's reference rows for K = 2, 3, 5, 10 apply (its d, N, sigma, eta).
    skipped: notes on the rows that do not.

  Reference: Athreya & Wang (2026), Assumptions 1-2 and Section 5; docs page "nearest_neighbor_multiclass", section
  "Setting".
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


def parse(config: MulticlassConfig) -> MulticlassSetup:
  """Reads a validated multiclass config into specs; the rules that tie fields together raise ``ConfigError``
  naming the field.

  Args:
    config: the typed config (every field already checked against its declaration).

  Returns:
    The setup.

  Raises:
    ConfigError: a class law that is not K positive numbers summing to 1.

  Reference: docs page "nearest_neighbor_multiclass", sections "Setting" and "Fields".
  """
  spec = validation.as_config_field(task.make_spec, config.d, config.N, config.K, config.class_probs)
  ref = config.reference_setting
  paper = (spec.probs is None and config.coding == "centred" and config.init == "paper"
           and (config.d, config.N, config.K, config.sigma, config.eta) == ref)
  rows: tuple[tuple[Any, ...], ...] = ()
  skipped: list[str] = []
  if config.references and not paper:
    skipped.append(f"references: the rows are for (d, N, K, sigma, eta) = {ref} from W_0 with centred codes and "
                   f"uniform classes; this run is {(config.d, config.N, config.K, config.sigma, config.eta)} (init "
                   f"{config.init}, coding {config.coding}, class law {spec.probs or 'uniform'}): skipped")
  elif config.references:
    rows = tuple(r for r in config.references if r[0] <= config.steps and r[0] % config.log_every == 0)
    skipped += [f"references: row at t = {r[0]} skipped (beyond the run's {config.steps} steps or not a logged "
                "step)" for r in config.references if r not in rows]
  factor = theory.code_factor(spec.K, config.coding, spec.probs)
  if factor is None:
    skipped.append(f"sgd_tracks: {config.coding} codes under the class law {spec.probs or 'uniform'} have no Lemma-2 "
                   "factor (their mean is not zero), so the chains are not compared with a reduced system")
  return MulticlassSetup(run=specs.run_spec(config), task=spec,
                         model=model.MulticlassModelSpec(spec.d, spec.K, config.sigma, config.init, config.init_scale),
                         eta=config.eta, coding=config.coding, factor=factor, replicas=config.replicas,
                         batch_size=config.batch_size, tau_samples=config.tau_samples,
                         eval_prompts=config.eval_prompts, enum_prompts=config.enum_prompts,
                         lemma12_steps=config.lemma12_steps, lemma12_prompts=config.lemma12_prompts,
                         flow_replicas=config.flow_replicas, references=rows, skipped=tuple(skipped),
                         flow_rows=(config.d, config.N, config.sigma, config.eta) == (ref[0], ref[1], ref[3], ref[4]))
