"""The several-layers theorem's config fields (each declared once), its packaged config and named variants.

Reference: docs page "lsa_multilayer", sections "Setting" and "Fields".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from icljax.experiment import configs, fields, specs
from icljax.experiment.api import Preset


@dataclasses.dataclass(frozen=True, kw_only=True)
class MultilayerConfig(specs.OptimizerFields):
  """Noiseless in-context linear regression with x ~ N(0, Sigma), w* ~ N(0, Sigma^-1), and the L-layer linear
  transformer of Ahn et al. (B_l = 0, or B_l trained), trained by L-BFGS on one fixed sample (or Adam/SGD on fresh
  batches).

  Reference: Ahn, Cheng, Daneshmand, Sra (2023), arXiv 2306.00297, section 2 (data, model) and Theorems 3-4; docs
  page "lsa_multilayer", section "Fields".
  """

  d: int = fields.field(5, "dimension of x and w*", fields.Int(low=1))
  n: int = fields.field(20, "context examples per prompt (>= d: the Wishart eigenvalue draws need it)",
                        fields.Int(low=1))
  L: int = fields.field(3, "layers (the exact optimum needs Wishart trace moments up to order 2L)",
                        fields.Int(low=1, high=4))
  layer_class: str = fields.field("sparse", "'sparse' (B_l = 0, Theorem 3) or 'with_b' (B_l trained, Theorem 4)",
                                  fields.Choice("sparse", "with_b"))
  spectrum: tuple[float, ...] | None = fields.field(
      (1.0, 1.0, 0.25, 0.0625, 1.0), "eigenvalues of Sigma (d numbers; None: the identity), the authors' D^2",
      fields.Vector(positive=True, optional=True))
  rotation: str = fields.field("random", "'none' (Sigma diagonal) or 'random' (a Haar basis; the theory is "
                               "rotation-invariant)", fields.Choice("none", "random"))
  rotation_seed: int = fields.field(1, "numpy seed of the Haar rotation", fields.Int(low=0))
  init_scale: float = fields.field(0.1, "std of the i.i.d. normal entries of A_l (and B_l) at init (the authors: "
                                   "1e-4; the layers must break symmetry)", fields.Real(low=0.0, low_open=True))
  sample_size: int = fields.field(200_000, "M, prompts of the one fixed training sample (L-BFGS needs it); 0: fresh "
                                  "batches of batch_size every step", fields.Int(low=0))
  batch_size: int = fields.field(4096, "fresh prompts per step when sample_size = 0", fields.Int(low=1),
                                 names_run=False)
  eval_prompts: int = fields.field(200_000, "fresh prompts of the eval MSE", fields.Int(low=1), names_run=False)
  noise_prompts: int = fields.field(100_000, "fresh prompts estimating the trained layers' sampling noise at the "
                                    "theory's point (the isotropy checks' tolerances)",
                                    fields.Int(low=1000, multiple_of=1000), names_run=False)
  # The defaults of the shared optimiser fields, set to this theorem's (L-BFGS ignores the rate and schedule).
  optimizer: str = fields.field("lbfgs", "'lbfgs' (needs sample_size >= 1), 'adam' or 'sgd'",
                                fields.Choice(*specs.OPTIMIZERS))
  learning_rate: float = fields.field(0.01, "peak step of adam/sgd (L-BFGS uses its line search)",
                                      fields.Real(low=0.0, low_open=True), names_run=False)
  warmup_steps: int = fields.field(0, "linear warmup steps of the cosine schedule", fields.Int(low=0),
                                   names_run=False)
  steps: int = fields.field(200, "optimiser steps (L-BFGS has converged by ~150 at L = 3)", fields.Int(low=1),
                            names_run=False)
  log_every: int = fields.field(25, "steps per metrics line", fields.Int(low=1), names_run=False)


PRESETS = (
    Preset("lsa_multilayer", """icljax-run --config=lsa_multilayer --workdir=runs/lsa_multilayer

About 1 minute on a 2-core CPU. Several layers (Ahn et al. 2023, Theorem 3): a 3-layer linear transformer with
B_l = 0 on noiseless in-context regression, d = 5, n = 20, x ~ N(0, Sigma) with eigenvalues (1, 1, 0.25, 0.0625,
1) in a random basis, w* ~ N(0, Sigma^-1), trained with L-BFGS on one sample of 200000 prompts (the authors'
L-BFGS protocol used 20000); against the best 3-step PGD (exact Wishart moments). Variant with_b (Theorem 4): the
layers' B_l blocks are trained too (L = 2, L-BFGS on 100000 prompts), against the best member of Theorem 4's family
A_l = a_l Sigma^-1, B_l = b_l I found by sample-average approximation in the run (about 1.5 minutes;
with_b,L=3,sample_size=200000,steps=2000 is the setting of the paper's learned B_0 ~ 0.90 I, B_1 ~ 0.56 I, about
15 minutes). Variant L4: four layers (the best 4-step PGD, about 1.5 minutes)."""),
)
VARIANTS: dict[str, dict[str, Any]] = {
    "with_b": {"layer_class": "with_b", "L": 2, "sample_size": 100_000, "steps": 400, "log_every": 50},
    "L4": {"L": 4},   # four layers (Wishart moments to order 8, ~10 s)
}
QUICK = {"steps": 100, "log_every": 50, "sample_size": 2000, "eval_prompts": 2000, "noise_prompts": 10_000}


def run_name(config: MultilayerConfig) -> str:
  """``lsa_multilayer``, then ``with_b`` for Theorem 4's class, then one part per run-naming field that differs from
  the preset (with ``with_b``: from the variant ``with_b``): ``L4``, ``M20000`` for the training sample, ``d3``, ...

  Args:
    config: the typed config.

  Returns:
    The run name (``lsa_multilayer_with_b`` for ``--config=lsa_multilayer:with_b``, ``lsa_multilayer_L2_M20000`` for
    the science gate).

  Reference: docs page "lsa_multilayer", section "Reproducing the figures" (the main job's run names).
  """
  preset = {p.name: p for p in PRESETS}.get(config.preset, PRESETS[0])
  with_b = config.layer_class == "with_b"
  base = fields.validate(MultilayerConfig, {**preset.values, **(VARIANTS["with_b"] if with_b else {})})
  parts = [preset.name] + (["with_b"] if with_b else [])
  for key, f in fields.declarations(MultilayerConfig).items():
    value = getattr(config, key)
    if key != "layer_class" and f.metadata["names_run"] and value != getattr(base, key):
      parts.append(configs.name_part("M" if key == "sample_size" else key, value))
  return "_".join(parts)


