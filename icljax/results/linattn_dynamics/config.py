"""The linear-attention dynamics config: every field declared once, the packaged config, its named variants (the
paper's figures) and ``quick``, and the run name derived from the fields (the paper's H, R, s)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from icljax.experiment import fields
from icljax.experiment.api import Preset

MODELS = ("separate", "merged")
INIT_MODES = ("random", "aligned")


def _flow_inits(value: Any) -> tuple[float, ...]:
  """At least two distinct positive finite multiples (the timing laws fit a drop time against the init scale)."""
  if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
    raise ValueError(value)
  out = tuple(float(v) for v in value)
  if len(out) < 2 or len(set(out)) != len(out) or not all(math.isfinite(v) and v > 0 for v in out):
    raise ValueError(value)
  return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class LinattnConfig(fields.Config):
  """In-context linear regression with an anisotropic Sigma (Zhang et al. 2025, Sec. 2) and multi-head linear
  attention, ATTN_S (separate rank-R keys and queries) or ATTN_M (merged key-query), trained by plain full-batch GD
  on P fixed prompts per replica from one shared small initialisation."""

  model: str = fields.field("separate", "'separate' (ATTN_S: rank-R keys and queries) or 'merged' (ATTN_M)",
                            fields.Choice(*MODELS))
  d: int = fields.field(4, "dimension of x and w*", fields.Int(low=1, high=16))
  n: int = fields.field(32, "context examples per prompt (N; the query is extra)", fields.Int(low=1))
  spectrum: tuple[float, ...] = fields.field(
      (4.0, 2.0, 1.0, 0.5), "eigenvalues of Sigma (d numbers > 0); distinct values fix the learning order",
      fields.Vector(positive=True))
  rotation: str = fields.field("random", "eigenbasis of Sigma: 'random' (Haar) or 'none' (the coordinate axes)",
                               fields.Choice("none", "random"))
  rotation_seed: int = fields.field(1, "seed of the Haar eigenbasis", fields.Int(low=0))
  sigma: float = fields.field(0.0, "label-noise standard deviation", fields.Real(low=0.0))
  prior: str = fields.field("identity", "task prior: 'identity' (w* ~ N(0, I), the paper) or 'inv_cov' "
                            "(w* ~ N(0, Sigma^-1))", fields.Choice("identity", "inv_cov"))
  heads: int = fields.field(5, "H, attention heads", fields.Int(low=1, high=64))
  rank: int = fields.field(1, "R, rows of each head's key and query (ATTN_S), 1..d", fields.Int(low=1, high=16))
  init_scale: float = fields.field(0.01, "s: ATTN_M v, U entries N(0, s^2); ATTN_S v ~ N(0, s^2), k, q entries "
                                   "N(0, s^2/d); aligned: the norm of each layer",
                                   fields.Real(0.0, 1.0, low_open=True))
  init_mode: str = fields.field("random", "'random' or 'aligned' (ATTN_M only: v = s h, U_i = s h_i I/sqrt(d), "
                                "Eq. 10's exact setting)", fields.Choice(*INIT_MODES))
  learning_rate: float = fields.field(0.02, "full-batch GD step on the MSE (t/tau = 2 lr step)",
                                      fields.Real(low=0.0, low_open=True), names_run=False)
  sample_size: int = fields.field(6000, "P, fixed prompts per replica (the paper's protocol), > d^2",
                                  fields.Int(low=2), names_run=False)
  replicas: int = fields.field(8, "independent samples trained from the same init (their spread is the error bar)",
                               fields.Int(low=2, high=64), names_run=False)
  flow_inits: tuple[float, ...] = fields.field(
      (1.0, 0.5), "init multiples of the exact-gradient flows of the timing laws (>= 2 distinct, > 0)",
      fields.Custom("a sequence of at least 2 distinct finite numbers > 0", _flow_inits, ((1.0,), (1.0, 1.0),
                                                                                        (1.0, -0.5), "abc")),
      names_run=False)
  noise_sigma: float = fields.field(0.5, "label noise of the extra exact-gradient flow of the noise-timing check",
                                    fields.Real(low=0.0), names_run=False)
  eval_prompts: int = fields.field(2048, "fresh prompts of the identity checks", fields.Int(low=1), names_run=False)


PRESETS = (
    Preset("linattn_dynamics", """icljax-run --config=linattn_dynamics --workdir=runs/linattn_dynamics

About 10 s on an idle 2-core CPU (30 s with the machine shared). Linear-attention training dynamics (Zhang et al.
2025) at the example E1: d = 4, Sigma with eigenvalues (4, 2, 1, 0.5) in a random basis, n = 32, w* ~ N(0, I),
noiseless. ATTN_S with 5 rank-one heads from init 0.01, full-batch GD (lr 0.02) on P = 6000 fixed prompts, 8
replicas, 60000 steps: the four-step staircase of in-context PCR plateaus, learned in decreasing eigenvalue order,
against the exact-gradient flow from the same initialisation. Variants: merged (ATTN_M: one drop, its timing against
ln(1/s)), rank (the paper's Fig. 4, R = 4), fig3 (the paper's Fig. 3), sigmoid (Eq. 10's time course).""",
           {"steps": 60_000, "log_every": 60}),
)
VARIANTS: dict[str, dict[str, Any]] = {
    # ATTN_M, 8 heads from init 1e-4, lr 1e-3: one drop; the escape slope over five init multiples.
    "merged": {"model": "merged", "heads": 8, "init_scale": 1e-4, "learning_rate": 0.001,
               "flow_inits": (1.0, 1e-1, 1e-2, 1e-3, 1e-4)},
    # Fig. 4: D = 8, spectrum (8..1)/36, N = 31, H = 9 heads of rank R = 4, s = 5e-3. lr = 1 (2 tau per step): the
    # flow's dwell per plateau agrees with lr = 0.25 to 0.006 e-folds. P = 80000 as the paper's runs.
    "rank": {"d": 8, "n": 31, "spectrum": tuple(k / 36 for k in range(8, 0, -1)), "heads": 9, "rank": 4,
             "init_scale": 5e-3, "learning_rate": 1.0, "steps": 20_000, "log_every": 40, "sample_size": 80_000},
    # Fig. 3 (the paper's E0): D = 4, spectrum (4, 3, 2, 1)/10, N = 31, H = 5 rank-one heads, P = 80000, 6 runs; the
    # code's init 1e-2 and lr 0.02 (no 1/N) are init 1e-2 31^(1/3) and lr 0.02 31^(2/3) here (Eq. 3 with 1/N).
    "fig3": {"n": 31, "spectrum": (0.4, 0.3, 0.2, 0.1), "init_scale": 0.031414, "learning_rate": 0.19737,
             "steps": 40_000, "log_every": 40, "sample_size": 80_000, "replicas": 6},
    # Eq. 10: ATTN_M at Sigma = I from the aligned balanced init of norm 1e-3: g = tr(Gamma)/d reaches g(inf)/2 at
    # t_half = 3.5909 tau; under GD at lr 0.05 at step 38.91 (35.91 for the flow read as steps: the discretisation
    # is ~3 steps at any lr, the replicas' spread ~1/lr, so a large lr resolves it); logged every step.
    "sigmoid": {"model": "merged", "spectrum": (1.0, 1.0, 1.0, 1.0), "rotation": "none", "heads": 8,
                "init_mode": "aligned", "init_scale": 1e-3, "learning_rate": 0.05, "steps": 300, "log_every": 1,
                "replicas": 16, "sample_size": 20_000, "flow_inits": (1.0, 0.1, 0.01, 1e-3, 1e-4)},
}
QUICK = {"steps": 4000, "log_every": 100, "replicas": 2, "sample_size": 500, "eval_prompts": 256}

SHORT = {"heads": "H", "rank": "R", "init_scale": "s", "rotation_seed": "basis"}   # the paper's letters


def _spectrum_part(spectrum: tuple[float, ...]) -> str:
  """``isotropic``, ``paper_spectrum`` (the authors' (d, ..., 1)/tr, trace one) or the eigenvalues."""
  d = len(spectrum)
  if len(set(spectrum)) == 1:
    return "isotropic"
  paper = tuple(k / (d * (d + 1) / 2) for k in range(d, 0, -1))
  if all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(spectrum, paper)):
    return "paper_spectrum"
  return "spectrum" + "-".join(f"{v:g}" for v in spectrum)


def _part(key: str, value: Any) -> str:
  if key == "spectrum":
    return _spectrum_part(value)
  if key == "rotation":
    return "unrotated" if value == "none" else "rotated"
  if isinstance(value, bool):
    return key if value else f"no_{key}"
  if isinstance(value, str):
    return value
  return SHORT.get(key, key) + (f"{value:g}" if isinstance(value, float) else str(value))


def run_name(config: LinattnConfig) -> str:
  """The preset's name, then one part per run-naming field that differs from the preset, in declaration order:
  strings as themselves (``merged``, ``aligned``), Sigma's spectrum as ``isotropic`` / ``paper_spectrum`` / its
  values, the rotation as ``unrotated``, numbers with the paper's letters (``H8``, ``R4``, ``s0.005``).

  Args:
    config: the typed config.

  Returns:
    The run name (``linattn_dynamics_merged_H8_s0.0001`` for the variant ``merged``).

  Reference: docs page "linattn_dynamics", section "Reproducing the figures" (the main job's run names).
  """
  presets = {p.name: p for p in PRESETS}
  base = fields.validate(LinattnConfig, presets[config.preset].values if config.preset in presets else {})
  parts = [config.preset or "linattn_dynamics"]
  for key, f in fields.declarations(LinattnConfig).items():
    value = getattr(config, key)
    if f.metadata["names_run"] and value != getattr(base, key):
      parts.append(_part(key, value))
  return "_".join(parts)
