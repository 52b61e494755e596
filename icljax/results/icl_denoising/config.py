"""The in-context denoising config: every field declared once, the packaged config, its named variants (the paper's
three task families, its context length, the science gate's sizes) and ``quick``, and the run name derived from the
fields.

Reference: docs page "icl_denoising", sections "Setting", "Fields" and "Reproducing the figures".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from icljax.experiment import fields
from icljax.experiment.api import Preset
from icljax.tasks import icl_denoising as task


@dataclasses.dataclass(frozen=True, kw_only=True)
class DenoisingConfig(fields.Config):
  """In-context denoising prompts (L clean tokens of a random task and one corrupted query) of one task family, and
  R replicas that each train both one-layer denoisers on fresh prompts: linear attention by plain GD, softmax
  attention by Adam.

  Reference: Smart, Bietti & Sengupta (2025), arXiv 2502.05164, Sections 2.1-2.2 (tasks), eqs. (9), (11), (12)
  (loss and models); docs page "icl_denoising", section "Fields".
  """

  task: str = fields.field("subspace", "task family: 'subspace' (Sec. 2.2.1), 'sphere' (2.2.2) or 'mixture' (2.2.3)",
                           fields.Choice(*task.FAMILIES))
  n: int = fields.field(16, "ambient dimension", fields.Int(low=2))
  d: int = fields.field(8, "subspace dimension, 1..n ('subspace'), or the sphere's dimension, 1..n-1 ('sphere'); "
                        "unused by 'mixture'", fields.Int(low=1))
  L: int = fields.field(19, "clean context tokens (the query excluded)", fields.Int(low=1))
  sigma0_sq: float = fields.field(2.0, "token variance per coordinate ('subspace', > 0) or cluster variance "
                                  "('mixture'); unused by 'sphere'", fields.Real(low=0.0))
  sigma_z_sq: float = fields.field(1.0, "variance of the query's corruption per coordinate",
                                   fields.Real(low=0.0, low_open=True))
  radius: float = fields.field(1.0, "R: the sphere's radius or the norm of the mixture's centres",
                               fields.Real(low=0.0, low_open=True))
  K: int = fields.field(8, "mixture components (equal weights)", fields.Int(low=1))
  replicas: int = fields.field(8, "independent initialisations and data streams, each training both denoisers "
                               "(their spread is the trained checks' error bar)", fields.Int(low=2, high=32),
                               names_run=False)
  batch_size: int = fields.field(512, "fresh prompts per replica and step (Adam's softmax alpha lags its valley "
                                 "more at smaller batches)", fields.Int(low=1), names_run=False)
  linear_lr: float = fields.field(0.05, "plain GD's initial step for linear attention on the total squared error "
                                  "(stable while lr x curvature < 2; scales as 1/(token variance)^2)",
                                  fields.Real(low=0.0, low_open=True), names_run=False)
  softmax_lr: float = fields.field(0.01, "Adam's initial rate for softmax attention (the paper's 1e-2)",
                                   fields.Real(low=0.0, low_open=True), names_run=False)
  final_lr_fraction: float = fields.field(0.05, "both rates decay (cosine) to this fraction",
                                          fields.Real(0.0, 1.0), names_run=False)
  eval_prompts: int = fields.field(10_000, "fresh prompts of the risks and the Bayes checks", fields.Int(low=1000),
                                   names_run=False)
  theory_prompts: int = fields.field(20_000, "the theory's own prompts (finite-L valleys; the mixture's gamma*)",
                                     fields.Int(low=1000), names_run=False)


PRESETS = (
    Preset("icl_denoising", """icljax-run --config=icl_denoising --workdir=runs/icl_denoising

About 25 s of one core (800 steps x 8 replicas x 512 fresh prompts, both denoisers). In-context denoising with
one-layer transformers (Smart, Bietti & Sengupta 2025) on the linear-subspace task of the paper's Figs. 3-4 (n = 16,
d = 8, sigma0^2 = 2, sigma_z^2 = 1) at L = 19 clean tokens (the shortest context of Fig. 4(a)): linear attention by
plain GD ends at the exact finite-L optimum of W_PV W_KQ = gamma I, gamma = 0.2262 (not the L -> infinity 1/3),
on the balanced point fixed by the conserved ||W_PV||^2 - ||W_KQ||^2; softmax attention by Adam ends on its
finite-L valley (the best value scale at its own key-query scale); eq. (4)'s printed value is checked and disputed.
Variants: sphere (case 2 and Fig. 5), mixture (case 3), paper (the paper's L = 499), gate (the science gate's
sizes).""", {"steps": 800, "log_every": 50}),
)
# Plain GD's step scales as 1/curvature, which shrinks with the tokens' fourth moment: the sphere's and the mixture's
# tokens are ~10x smaller per coordinate than the subspace's, so their linear_lr is ~100x larger. Adam's softmax_lr
# 0.05: beta must travel to ~4 (the valley's floor) instead of ~0.2 (the subspace's).
FAMILY_VARIANTS = {
    "sphere": {"task": "sphere", "d": 8, "radius": 1.0, "sigma_z_sq": 0.1, "L": 49, "linear_lr": 20.0,
               "softmax_lr": 0.05},
    "mixture": {"task": "mixture", "K": 8, "sigma0_sq": 0.02, "sigma_z_sq": 0.1, "radius": 1.0, "L": 49,
                "linear_lr": 20.0, "softmax_lr": 0.05},
}
VARIANTS: dict[str, dict[str, Any]] = {
    **FAMILY_VARIANTS,
    # the paper's Fig. 3 context: L = 499 clean tokens (the code's context_len 500); fewer prompts per step (the cost
    # is ~ L)
    "paper": {"L": 499, "steps": 600, "batch_size": 128},
    # the science gate's sizes (its subspace run also sets sigma_z^2 = 0.5, away from 1, so that a noise standard
    # deviation read as a variance shows). n = 16 as the paper: at n = 8 some replicas of both models end at
    # sign-twisted critical points (W_PV, W_KQ) ~ (alpha M, beta M), M a symmetric orthogonal matrix with mixed signs.
    "gate": {"d": 4, "L": 12, "batch_size": 128, "steps": 500, "eval_prompts": 10_000, "theory_prompts": 10_000},
}
QUICK = {"steps": 60, "log_every": 20, "replicas": 2, "batch_size": 64, "eval_prompts": 2000, "theory_prompts": 2000}

# Fields each family reads (the others are ignored by its sampler and theory, so they do not name its runs).
UNUSED = {"subspace": ("radius", "K"), "sphere": ("sigma0_sq", "K"), "mixture": ("d",)}
SIZES = {"batch_size": "batch", "replicas": "replicas"}   # sizes that name runs: a reduced key run is told apart


def run_name(config: DenoisingConfig) -> str:
  """``icl_denoising_<task>_L<L>``, then one part per field that differs from the family's packaged values: the
  task's fields the family reads (``d4``, ``sigma_z_sq0.5``, ``seed1``, ``x64``), and the sizes that set a run's
  error bars (``batch256``, ``replicas4``), so a key run drawn at reduced sizes never shares its full-size twin's
  workdir.

  Args:
    config: the typed config.

  Returns:
    The run name (``icl_denoising_sphere_L499_batch128`` for the variants ``sphere,paper``).

  Reference: docs page "icl_denoising", section "Reproducing the figures" (the main job's run names).
  """
  base_values = dict(PRESETS[0].values)
  base_values.update(FAMILY_VARIANTS.get(config.task, {}))
  base = fields.validate(DenoisingConfig, base_values)
  parts = ["icl_denoising", config.task, f"L{config.L}"]
  for key, f in fields.declarations(DenoisingConfig).items():
    value = getattr(config, key)
    if key in ("task", "L") or key in UNUSED[config.task] or value == getattr(base, key):
      continue
    if f.metadata["names_run"] or key in SIZES:
      parts.append(_part(SIZES.get(key, key), value))
  return "_".join(parts)


def _part(key: str, value: Any) -> str:
  if isinstance(value, bool):
    return key if value else f"no_{key}"
  return key + (f"{value:g}" if isinstance(value, float) else str(value))
