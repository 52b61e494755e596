"""The noisy in-context recall config: every field declared once, the packaged config, its named variants (the
paper's Figs 1-2 and the other noise levels) and ``quick``, and the run name derived from the fields.

Reference: docs page "recall", sections "Setting", "Fields" and "Reproducing the figures".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from icljax.experiment import fields
from icljax.experiment.api import Preset

KINDS = ("origin", "reparam", "reparam_w")
ATTENTIONS = ("linear", "relu", "softmax")


def _tokens(value: Any) -> tuple[int, ...]:
  """A non-empty tuple of distinct token ids >= 0 (the range 0..V-2 is checked with V in ``setup``)."""
  if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
    raise ValueError(value)
  if not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in value) or len(set(value)) != len(
      value):
    raise ValueError(value)
  return tuple(int(t) for t in value)


def _dimension(value: Any) -> int | None:
  """None (d = 2V) or an integer >= 8 (the rule d >= 2V is checked with V in ``setup``)."""
  if value is None:
    return None
  if isinstance(value, bool) or not isinstance(value, int) or value < 8:
    raise ValueError(value)
  return int(value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecallConfig(fields.Config):
  """Noisy in-context recall sentences (one (q, y) bigram, a (q, tau) bigram when noisy, target tau with probability
  alpha) and the one-layer transformer of Eq. (1), trained by per-tensor normalised GD from zero.

  Reference: Nguyen & Nguyen-Tang (2025), arXiv 2505.15009, Definition 2.1 (task) and Eq. (1) (model); the
  authors' released code (generator, model classes, NGD); docs page "recall", section "Fields".
  """

  model: str = fields.field("reparam", "'origin' (W, V, F trained), 'reparam' (lam / Lam trained) or 'reparam_w' "
                            "(full W trained, V = I and F fixed)", fields.Choice(*KINDS))
  attention: str = fields.field("linear", "'linear', 'relu' (max(0, s + 1e-8), as in the authors' code) or "
                                "'softmax'", fields.Choice(*ATTENTIONS))
  kappa: int = fields.field(1, "1: the feed-forward layer reads x_H + attention ('FA'); 0: x_H only ('F')",
                            fields.Choice(0, 1))
  alpha: float = fields.field(0.5, "noise level; 0 is the noiseless task (5 triggers), > 0 one trigger",
                              fields.Real(0.0, 1.0, high_open=True))
  M: int = fields.field(0, "0: fresh batches (population); else a finite training set of M >= batch_size "
                        "sentences", fields.Int(low=0))
  eta: float = fields.field(0.1, "normalised-GD step", fields.Real(low=0.0, low_open=True))
  batch_size: int = fields.field(512, "sentences per step", fields.Int(low=1))
  V: int = fields.field(60, "classes, the noise token tau = V - 1 included", fields.Int(low=4))
  triggers: tuple[int, ...] = fields.field((0, 1, 2, 3, 4), "trigger token ids in 0..V-2 (the noisy task uses the "
                                           "first only)", fields.Custom(
                                               "a non-empty tuple of distinct token ids >= 0", _tokens,
                                               ((), (-1,), (1, 1), "abc")))
  outputs: tuple[int, ...] = fields.field((5, 6, 7, 8), "training output token ids in 0..V-2, disjoint from the "
                                          "triggers (the unseen outputs are all the other regular tokens)",
                                          fields.Custom("a non-empty tuple of distinct token ids >= 0", _tokens,
                                                        ((), (-1,), (1, 1), "abc")))
  H: int = fields.field(256, "context length (>= 6 when noisy)", fields.Int(low=4))
  d: int | None = fields.field(None, "embedding dimension, >= 2V; None: 2V",
                               fields.Custom("None (d = 2V) or an integer >= 8", _dimension, (1, 1.5, "abc")))
  test_size: int = fields.field(512, "unseen-output test sentences", fields.Int(low=1), names_run=False)
  eval_size: int = fields.field(4096, "fresh sentences of the population loss (logged with the test loss at every "
                                "metrics line)", fields.Int(low=1), names_run=False)


PRESETS = (
    Preset("recall", """icljax-run --config=recall --workdir=runs/recall

About 10 s of one core (2000 normalised-GD steps of 512 fresh sentences at H = 256). Noisy in-context recall with
V = 60 classes (tau = 59), trigger 0, outputs 5..8, unseen outputs 9..58: Reparam-Linear-FA at alpha = 0.5 reaches
the Bayes risk H(alpha) = ln 2 at a linear rate (Lam_t = eta t), and its unseen-output test loss follows. Named
variants (--config=recall:<variant>) are the main job's runs: the paper's Fig. 1 models at alpha = 0 and 0.5 (e.g.
origin_softmax_F_a0), alpha = 0.2 / 0.8, ReLU, kappa = 0, float64 and the finite-sample Fig. 2 runs
(finite_reparam_relu_FA).""", {"steps": 2000, "log_every": 25}),
)

# The paper's Fig. 1 models (one row noiseless, one noisy), and Origin-Linear-F beside them (P10's plateau: its
# attention never moves).
FIG1 = (("reparam", "linear", 1), ("reparam", "softmax", 1), ("reparam_w", "linear", 1), ("origin", "linear", 1),
        ("origin", "softmax", 0))
P10 = ("origin", "linear", 0)


def variant_name(model: str, attention: str, kappa: int, alpha: float) -> str:
  """The variant word of a model at a noise level, e.g. ``origin_softmax_F_a0``.

  Args:
    model: the model kind.
    attention: the attention.
    kappa: 1 ('FA') or 0 ('F').
    alpha: the noise level.

  Returns:
    The word.

  Reference: docs page "recall", section "Reproducing the figures".
  """
  return f"{model}_{attention}_{'FA' if kappa else 'F'}_a{alpha:g}"


def _variants() -> dict[str, dict[str, Any]]:
  out: dict[str, dict[str, Any]] = {}
  for alpha in (0.0, 0.5):          # the paper's Fig. 1 (noiseless and noisy rows)
    for model, attention, kappa in (*FIG1, P10):
      out[variant_name(model, attention, kappa, alpha)] = dict(model=model, attention=attention, kappa=kappa,
                                                               alpha=alpha)
  for alpha in (0.2, 0.8):          # other noise levels (the paper's appendix Figs 3-9)
    for attention in ("linear", "relu"):
      out[f"reparam_{attention}_FA_a{alpha:g}"] = dict(attention=attention, alpha=alpha, steps=1000)
    for model in ("reparam_w", "origin"):   # the unconstrained models at these alphas
      out[f"{model}_linear_FA_a{alpha:g}"] = dict(model=model, alpha=alpha)
  out["reparam_relu_FA_a0.5"] = dict(attention="relu", steps=1000)
  out["reparam_linear_F_a0.5"] = dict(kappa=0, steps=1000, log_every=5)   # P9's tail mean: 100 logged Lam
  out["reparam_linear_FA_a0.5_float64"] = dict(x64=True, steps=600)
  for model in ("reparam", "reparam_w", "origin"):   # the paper's Fig. 2 (finite sample)
    out[f"finite_{model}_relu_FA"] = dict(model=model, attention="relu", M=2048, steps=400, log_every=10, eta=0.05)
  return out


VARIANTS = _variants()
QUICK = {"steps": 20, "log_every": 10, "H": 32, "batch_size": 64, "eval_size": 256, "test_size": 64}


def _part(key: str, value: Any) -> str:
  if key == "x64":
    return "float64" if value else "float32"
  if isinstance(value, tuple):
    return key + "-".join(str(v) for v in value)
  return key + (f"{value:g}" if isinstance(value, float) else str(value))


def run_name(config: RecallConfig) -> str:
  """``recall_<model>_<attention>_<FA|F>_a<alpha>``, then one part per other run-naming field that differs from the
  preset: the theorem's own fields in declaration order (``M2048``, ``eta0.05``, ``H64``), then ``seed1``,
  ``steps1000``, ``float64``. ``steps`` names runs here (it does not by default): where NGD stops decides the
  unconstrained models' claims, and the default profile's Fig. 1 runs differ from the full-size ones in steps only.

  Args:
    config: the typed config.

  Returns:
    The run name (``recall_origin_linear_FA_a0.5`` for ``--config=recall --config.model=origin``).

  Reference: docs page "recall", section "Reproducing the figures" (the main job's run names).
  """
  presets = {p.name: p for p in PRESETS}
  base = fields.validate(RecallConfig, presets[config.preset].values if config.preset in presets else {})
  parts = [config.preset or "recall", variant_name(config.model, config.attention, config.kappa, config.alpha)]
  stem = ("model", "attention", "kappa", "alpha")
  declared = fields.declarations(RecallConfig)
  common = [k for k in declared if k in fields.declarations(fields.Config)]
  for key in [k for k in declared if k not in common and k not in stem] + common:   # the theorem's, then seed, ...
    value = getattr(config, key)
    if (declared[key].metadata["names_run"] or key == "steps") and value != getattr(base, key):
      parts.append(_part(key, value))
  return "_".join(parts)
