"""Lemma 2 and the codings per prompt, the labels integrated by enumerating every class assignment (d = N = 4, at
fixed points of the family: no training, so these are identities and controls, not evidence of training).

Reference: Athreya & Wang (2026), Lemmas 2-3 and eq. (7); docs page "nearest_neighbor_multiclass", section "What is
checked and why" (Lemma 2 for any code, the enumeration).
"""

from __future__ import annotations

import jax
import numpy as np

from icljax import _pytree, prng
from icljax.experiment.checks import Checker
from icljax.models import nearest_neighbor_multiclass as model
from icljax.results.nearest_neighbor_multiclass.setup import MulticlassSetup
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor as binary
from icljax.theory import nearest_neighbor_multiclass as theory

POINTS = ((0.0, 0.0), (1.0, 2.0), (2.0, 5.0), (5.0, 2.0), (8.0, 15.0))
# The reference enumeration (float64, all label configurations, d = N = 4, 2000 prompts; the theorem's docs page):
ONEHOT_RATIO = {2: 0.84760, 3: 0.89840}                       # L_onehot / L_bin at (5, 2)
P4_PROBS = (0.5, 0.3, 0.2)                                    # a non-uniform class law, K = 3
P4_CENTRED_RATIO = {(1.0, 2.0): 0.62058, (5.0, 2.0): 0.65238}   # centred codes under P4_PROBS: L / L_bin
REF_PROMPTS = 2000
ROUNDING = 5e-6                                               # half a unit of the references' fifth decimal


def _prompts(setup: MulticlassSetup, K: int, n: int, fold: int) -> dict[str, jax.Array]:
  key = jax.random.fold_in(prng.stream(setup.run.seed, "test"), fold)
  return task.sample(key, task.make_spec(4, n, K), setup.enum_prompts)


def _ratio(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
  """Ratio of means and its delta-method standard error."""
  ratio = num.mean() / den.mean()
  cov = np.cov(num, den) / len(den)
  return float(ratio), float(np.sqrt(cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / den.mean())


def _paired_se(se: float, n: int) -> float:
  """The s.e. of (ours - the reference's), the reference's from REF_PROMPTS prompts of the same law."""
  return se * float(np.sqrt(1 + n / REF_PROMPTS))


def _loss(w, prompts, K, coding, probs=None) -> np.ndarray:
  return np.asarray(theory.enumerated_loss(w, prompts, K, coding, probs), np.float64)


@_pytree.filter_jit
def _binary(xi: jax.Array, tau: jax.Array, K: int) -> tuple[jax.Array, jax.Array, jax.Array]:
  """Per prompt, the binary label-integrated loss, the one-hot excess q_self^2 / (2K) and the closed form of the
  centred code under P4_PROBS (one program)."""
  return (binary.per_prompt(xi, tau)["loss"], theory.onehot_excess(xi, tau, K),
          theory.code_loss(xi, tau, K, "centred", P4_PROBS))


def lemma2(c: Checker, setup: MulticlassSetup, out: dict) -> None:
  """Lemma 2 per prompt at the run's K, the one-hot excess q_self^2/(2K), and the one-hot ratio at (5, 2).

  Args:
    c: the checker.
    setup: the run's specs (K, seed, ``enum_prompts``).
    out: the evaluation's ``scalars`` (the one-hot ratio goes there).

  Returns:
    None; the checks go to ``c``.

  Reference: Athreya & Wang (2026), Lemma 2; docs page "nearest_neighbor_multiclass", section "What is checked and
  why" (entries lemma2_enumerated, onehot_excess, onehot_ratio, onehot_not_f).
  """
  K = setup.task.K
  n = 4 if K**4 <= 5000 else 3
  prompts = _prompts(setup, K, n, 1)
  f, gap, excess_gap = theory.factor(K), 0.0, 0.0
  for xi1, xi2 in POINTS:
    w = model.to_W(xi1, xi2, 4, K)
    bin_pp, excess, _ = (np.asarray(v, np.float64) for v in _binary(np.array([xi1, xi2], np.float32),
                                                                     prompts["tau"], K))
    centred, onehot = _loss(w, prompts, K, "centred"), _loss(w, prompts, K, "onehot")
    gap = max(gap, float(np.max(np.abs(centred - f * bin_pp))))
    excess_gap = max(excess_gap, float(np.max(np.abs(onehot - f * bin_pp - excess))))
    if (xi1, xi2) == (5.0, 2.0) and n == 4 and K in ONEHOT_RATIO:
      ratio, se = _ratio(onehot, bin_pp)
      c("onehot_ratio", f"L_onehot / L_bin at (5, 2), d = N = 4 (f would be {f:.4f})", ONEHOT_RATIO[K], ratio,
        se=_paired_se(se, len(bin_pp)), floor=ROUNDING, note="reference enumeration")
      c("onehot_not_f", "one-hot codes: L_onehot / L_bin at (5, 2) must not be f", f, ratio, se=se)
      out["scalars"]["onehot_ratio_at_5_2"] = ratio
  c("lemma2_enumerated", f"Lemma 2: max |L_MC - f L_bin| per prompt, {len(POINTS)} points, d = N = {n}", 0.0, gap)
  c("onehot_excess", "max |L_onehot - f L_bin - q_self^2/(2K)| per prompt", 0.0, excess_gap)


def codings(c: Checker, setup: MulticlassSetup) -> None:
  """The codings at K = 3, d = N = 4: unit-norm simplex codes (factor 1), codes re-centred at a non-uniform law
  (factor 1 - sum p^2), and the paper's centred code under that law (no constant factor: a control).

  Args:
    c: the checker.
    setup: the run's specs (seed, ``enum_prompts``).

  Returns:
    None; the checks go to ``c``.

  Reference: Athreya & Wang (2026), Lemmas 2-3 (the factor E||u||^2 of a mean-zero code); docs page
  "nearest_neighbor_multiclass", section "What is checked and why" (entries p4_unit, p4_recentred, p4_centred,
  p4_centred_closed, p4_not_constant).
  """
  K, prompts = 3, _prompts(setup, 3, 4, 2)
  phi = 1.0 - sum(p * p for p in P4_PROBS)
  unit_gap = recentred_gap = closed_gap = 0.0
  for xi1, xi2 in POINTS:
    w = model.to_W(xi1, xi2, 4, K)
    bin_pp, _, closed = (np.asarray(v, np.float64) for v in _binary(np.array([xi1, xi2], np.float32),
                                                                     prompts["tau"], K))
    unit_gap = max(unit_gap, float(np.max(np.abs(_loss(w, prompts, K, "unit") - bin_pp))))
    recentred = _loss(w, prompts, K, "recentred", P4_PROBS)
    recentred_gap = max(recentred_gap, float(np.max(np.abs(recentred - phi * bin_pp))))
    centred = _loss(w, prompts, K, "centred", P4_PROBS)
    closed_gap = max(closed_gap, float(np.max(np.abs(centred - closed))))
    if (xi1, xi2) in P4_CENTRED_RATIO:
      ratio, se = _ratio(centred, bin_pp)
      ref = P4_CENTRED_RATIO[(xi1, xi2)]
      c("p4_centred", f"centred codes, classes {P4_PROBS}: L / L_bin at ({xi1:g}, {xi2:g}), d = N = 4", ref, ratio,
        se=_paired_se(se, len(bin_pp)), floor=ROUNDING, note="reference enumeration")
      if (xi1, xi2) == (5.0, 2.0):
        c("p4_not_constant", f"centred codes, classes {P4_PROBS}: L / L_bin at (5, 2) must not be 1 - sum p^2",
          phi, ratio, se=se)
  c("p4_unit", f"unit-norm simplex codes: max |L - L_bin| per prompt, {len(POINTS)} points, K = 3", 0.0, unit_gap)
  c("p4_recentred", f"codes e_c - p, classes {P4_PROBS}: max |L - (1 - sum p^2) L_bin| per prompt", 0.0,
    recentred_gap)
  c("p4_centred_closed", f"centred codes, classes {P4_PROBS}: max |L - (1 - s) L_bin - (s - 1/K) q_self^2/2| per "
    "prompt, s = sum p^2", 0.0, closed_gap)
