"""The chain-of-thought theorem's config fields (each declared once), its packaged configs and named variants.

Reference: docs page "lsa_chain_of_thought", sections "Setting" and "Fields".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from icljax.experiment import fields, specs
from icljax.experiment.api import Preset


@dataclasses.dataclass(frozen=True, kw_only=True)
class CotConfig(specs.OptimizerFields):
  """Noiseless in-context linear regression (x ~ N(0, I), w* ~ N(0, I), no query) and the one-layer linear
  attention that writes its own chain of thought.

  Reference: Huang, Wang, Lee (2025), arXiv 2502.21212, section 3 (task, embedding, CoT targets); docs page
  "lsa_chain_of_thought", section "Fields".
  """

  d: int = fields.field(5, "dimension of x and w*", fields.Int(low=1, high=16))
  n: int = fields.field(20, "examples per prompt", fields.Int(low=1))
  eta: float = fields.field(0.5, "step of the GD targets", fields.Real(0.0, 2.0, low_open=True, high_open=True))
  cot_steps: int = fields.field(5, "k, chain-of-thought steps in the teacher-forced loss", fields.Int(low=1, high=32))
  eval_steps: int = fields.field(20, "steps generated autoregressively at evaluation, cot_steps..64 (decides which "
                                 "rows are checked and the K of ood_unstable)", fields.Int(low=1, high=64))
  parameterization: str = fields.field("sparse", "'sparse' (V_31, W_13 trained; W_24 = -1) or 'dense' (full V, W)",
                                       fields.Choice("sparse", "dense"))
  init_scale: float = fields.field(0.1, "sparse: V_31 = -s I, W_13 = s I; dense: entries N(0, s^2)",
                                   fields.Real(low=0.0, low_open=True))
  batch_size: int = fields.field(256, "fresh prompts per training step", fields.Int(low=1), names_run=False)
  eval_prompts: int = fields.field(20_000, "fresh prompts of every evaluation mean", fields.Int(low=1),
                                   names_run=False)
  ood_spectrum: tuple[float, ...] = fields.field(
      (1.0, 1.0, 0.25, 0.0625, 1.0), "eigenvalues of the out-of-distribution Sigma (d numbers), or () for none",
      fields.Vector(positive=True), names_run=False)


PRESETS = (
    Preset("lsa_chain_of_thought", """icljax-run --config=lsa_chain_of_thought --workdir=runs/lsa_chain_of_thought

Well under a minute on a 2-core CPU. One-layer linear attention predicts w* of a noiseless in-context linear
regression (d = 5, n = 20), trained teacher-forced on k = 5 steps of GD with eta = 0.5; generated autoregressively
for 20 steps and scored against the GD iterates and w*. Beside it, the same model without chain of thought: one GD
step at n/(n+d+1). Variants: dense (full V and W from a random initialisation), paper_dims (d = 10, k = 10).""",
           {"steps": 2000, "log_every": 50, "learning_rate": 0.01, "warmup_steps": 0}),
)
VARIANTS: dict[str, dict[str, Any]] = {
    "dense": {"parameterization": "dense", "init_scale": 0.1, "steps": 6000, "learning_rate": 0.01},
    "paper_dims": {"d": 10, "cot_steps": 10, "eval_steps": 20, "ood_spectrum": (), "learning_rate": 0.003,
                   "steps": 3000},
}
QUICK = {"steps": 200, "log_every": 50, "batch_size": 64, "eval_prompts": 2000, "eval_steps": 8}
