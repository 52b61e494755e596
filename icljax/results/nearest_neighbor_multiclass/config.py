"""The multiclass 1-NN config: every field declared once, the packaged config, its named variants (the codings and
the class law of Lemma 2), ``quick``, and the run name derived from the fields.

Reference: docs page "nearest_neighbor_multiclass", sections "Setting", "Fields" and "Reproducing the figures".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from icljax.experiment import fields
from icljax.experiment.api import Preset
from icljax.tasks import nearest_neighbor_multiclass as task

INITS = ("paper", "random")


def _references(value: Any) -> tuple[tuple[Any, ...], ...]:
  """Rows ``(t, xi1, xi2, L_MC, accuracy)``: t an integer >= 1, the rest numbers or None (not given)."""
  rows = fields.Rows(5).check("config.references", value)
  if not all(isinstance(r[0], int) and not isinstance(r[0], bool) and r[0] >= 1 for r in rows):
    raise ValueError(value)
  return rows


def _setting(value: Any) -> tuple[Any, ...]:
  """``(d, N, K, sigma, eta)``: three integers >= 1 and two finite numbers > 0."""
  if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 5:
    raise ValueError(value)
  ints = [fields.Int(low=1).check("config.reference_setting", v) for v in value[:3]]
  reals = [fields.Real(low=0.0, low_open=True).check("config.reference_setting", v) for v in value[3:]]
  return (*ints, *reals)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MulticlassConfig(fields.Config):
  """K-class in-context 1-NN prompts on the sphere (Assumption 1), the one-layer softmax attention of eqs. (2)-(6)
  from W_0 (Assumption 2), trained by minibatch SGD on the full W (the paper's Section 5) beside the reduced K-class
  population system; the reduced flow run and the enumeration of the labels.

  Reference: Athreya & Wang (2026), arXiv 2609.01311, Assumptions 1-2, eqs. (1)-(7), Section 5; docs page
  "nearest_neighbor_multiclass", section "Fields".
  """

  d: int = fields.field(8, "input dimension (x on the unit sphere S^{d-1})", fields.Int(low=2))
  N: int = fields.field(16, "context examples per prompt", fields.Int(low=1))
  K: int = fields.field(3, "classes", fields.Int(low=2, high=12))
  class_probs: tuple[float, ...] = fields.field(
      (), "class law: () uniform (the paper's), or K positive numbers summing to 1", fields.Vector(positive=True))
  sigma: float = fields.field(3.0, "W_0 = diag(0, 0_K, -sigma) (Assumption 2)", fields.Real(low=0.0, low_open=True))
  eta: float = fields.field(0.05, "SGD/GD step on W (xi1 moves by eta/d)", fields.Real(low=0.0, low_open=True))
  init: str = fields.field("paper", "'paper' (W_0) or 'random' (W_0 + N(0, init_scale^2) on every entry, Fig. 5)",
                           fields.Choice(*INITS))
  init_scale: float = fields.field(0.0, "standard deviation of the 'random' perturbation", fields.Real(low=0.0))
  coding: str = fields.field("centred", "the chains' label codes: 'centred' (e_c - 1/K, the paper's), 'recentred' "
                             "(e_c - p), 'unit' (unit-norm simplex) or 'onehot' (e_c: no Lemma-2 factor)",
                             fields.Choice(*task.CODINGS))
  replicas: int = fields.field(8, "independent SGD chains and population samples (standard errors, t-factors)",
                               fields.Int(low=2), names_run=False)
  batch_size: int = fields.field(128, "fresh prompts per SGD step and chain", fields.Int(low=1), names_run=False)
  tau_samples: int = fields.field(8000, "prompts per population sample of the reduced system", fields.Int(low=100),
                                  names_run=False)
  eval_prompts: int = fields.field(20_000, "fresh prompts of the loss, accuracy and W_0 checks", fields.Int(low=1),
                                   names_run=False)
  enum_prompts: int = fields.field(500, "prompts of the exact label enumeration (d = N = 4); 0: no enumeration",
                                   fields.Int(low=0), names_run=False)
  lemma12_steps: int = fields.field(
      1_000_000, "horizon (K-class steps) of the reduced flow run: binary population GD read at f eta t for the flow "
      "rows of K = 2, 3, 5, 10, Lemma 12 from its sigma threshold and the late-time rate; 0: no flow run",
      fields.Int(low=0), names_run=False)
  lemma12_prompts: int = fields.field(250, "inner-product prompts per replica of the flow run", fields.Int(low=20),
                                      names_run=False)
  flow_replicas: int = fields.field(16, "independent inner-product samples of the flow run (standard errors)",
                                    fields.Int(low=2), names_run=False)
  reference_setting: tuple[float, ...] = fields.field(
      (8, 16, 3, 3.0, 0.05), "(d, N, K, sigma, eta) of the reference rows (they apply only there, from W_0, with "
      "centred codes and uniform classes)",
      fields.Custom("(d, N, K, sigma, eta): three integers >= 1, two numbers > 0", _setting,
                    ((1.0, 2.0), "abc", (8, 16, 3.5, 3.0, 0.05))), names_run=False)
  # K = 3: (t, xi1, xi2, L_MC, accuracy) of an independent float64 RK45 computation of the reduced flow (20000
  # prompts; metrics on 1e5 fresh prompts), recorded on the docs page; None where it gives no value.
  references: tuple[tuple[Any, ...], ...] = fields.field(
      ((1000, 0.1586, 3.0004, 0.3085, None), (5000, 0.8536, 3.0143, 0.2891, None),
       (10_000, 1.849, 3.108, 0.2574, 0.642)),
      "reference rows (t, xi1, xi2, L_MC, accuracy) of the trained reduced system (None: not given)",
      fields.Custom("a tuple of rows (t, xi1, xi2, L_MC, accuracy): t an integer >= 1, numbers or None",
                    _references, ("abc", ((1.5, 0.1, 3.0, 0.3, None),), ((1000, 0.1),))), names_run=False)


PRESETS = (
    Preset("nearest_neighbor_multiclass", """icljax-run --config=nearest_neighbor_multiclass --workdir=runs/multiclass

About 65 s of CPU (2-core machine). Multiclass 1-NN (Athreya & Wang 2026) at the paper's setting (d = 8, N = 16,
K = 3, sigma = 3, eta = 0.05, minibatch SGD of 128 prompts): 8 full-W SGD chains and the K-class reduced population
system on 8 samples to 10^4 steps; the reduced flow to 10^6 K-class steps for K = 2, 3, 5, 10 (one binary run read
at f eta t), Lemma 12 from its sigma threshold; Lemma 2 and the codings by exact enumeration (d = N = 4). Variants:
p4 (the chains under the class law (0.5, 0.3, 0.2) with codes re-centred at it: Lemma 2's factor 1 - sum p^2 =
0.62), unit (unit-norm simplex codes: factor 1), key (the default job's headline: the first 5000 steps, smaller
samples; about 32 s of CPU with an empty compilation cache, 21 s warm).""",
           {"steps": 10_000, "log_every": 100}),
)
# The default job's headline (issue 31: its share of 5 minutes for every theorem): the first 5000 of the preset's
# 10^4 SGD steps (the chains' batches are the same), smaller samples. 125 x 16 flow prompts = the 2000 inner products
# of a reduced-system sample, so the flow run's sampler reuses that compiled program.
KEY = {"steps": 5000, "log_every": 250, "tau_samples": 2000, "eval_prompts": 10_000, "lemma12_prompts": 125}
# Lemma 2 off the paper's coding: the same chains, 2000 steps, no enumeration (the default run's) and no flow run.
_CODES = {"steps": 2000, "log_every": 500, "tau_samples": 4000, "eval_prompts": 5000, "enum_prompts": 0,
          "lemma12_steps": 0}
VARIANTS: dict[str, dict[str, Any]] = {"p4": {**_CODES, "class_probs": (0.5, 0.3, 0.2), "coding": "recentred"},
            "unit": {**_CODES, "coding": "unit"},
            "key": KEY}
QUICK = {"steps": 200, "log_every": 50, "replicas": 2, "tau_samples": 500, "eval_prompts": 1000, "enum_prompts": 50,
         "lemma12_steps": 0}


def _part(key: str, value: Any) -> str:
  if key == "class_probs":
    return "p" + "-".join(f"{v:g}" for v in value)
  if key == "x64":
    return "float64" if value else "float32"
  if isinstance(value, str):
    return value
  return key + (f"{value:g}" if isinstance(value, float) else str(value))


def run_name(config: MulticlassConfig) -> str:
  """The preset's name, then one part per run-naming field that differs from the preset: the theorem's fields in
  declaration order, then ``seed``, ``steps`` and ``x64``; strings as themselves (``recentred``, ``random``), the
  class law as ``p<probabilities>``, numbers as ``<field><value>`` (``K5``, ``sigma10``, ``steps5000``),
  ``float64``. ``steps`` names runs here (it does not by default): the reference rows checked are those up to the
  last step, and the default job's key run differs from the archive's in its steps (and sample sizes).

  Args:
    config: the typed config.

  Returns:
    The run name (``nearest_neighbor_multiclass_p0.5-0.3-0.2_recentred_steps2000`` for the variant ``p4``).

  Reference: docs page "nearest_neighbor_multiclass", section "Reproducing the figures" (the main job's run names).
  """
  presets = {p.name: p for p in PRESETS}
  base = fields.validate(MulticlassConfig, presets[config.preset].values if config.preset in presets else {})
  parts = [config.preset or "nearest_neighbor_multiclass"]
  declared = fields.declarations(MulticlassConfig)
  common = [k for k in declared if k in fields.declarations(fields.Config)]
  for key in [k for k in declared if k not in common] + common:   # the theorem's fields, then seed, steps, x64
    value = getattr(config, key)
    if (declared[key].metadata["names_run"] or key == "steps") and value != getattr(base, key):
      parts.append(_part(key, value))
  return "_".join(parts)
