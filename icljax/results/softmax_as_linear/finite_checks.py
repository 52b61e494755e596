"""Checks of the trained finite-L layers: the softmax layer against its exact finite-L optimum and the first-order
forms (t*, 1 - kappa/L, F(t*)), linear attention at the same L, the non-Gaussian controls, the authors' sampler;
and the exact finite-L optimum against the first-order forms at a large L.

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Sec. 4-5 (R_L, Thm 4.3, Thm 5.1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from icljax.experiment.checks import Checker
from icljax.results.softmax_as_linear import trained
from icljax.results.softmax_as_linear.reference import LIMIT_L, Reference, isotropic
from icljax.results.softmax_as_linear.setup import SalSetup


def limit_checks(c: Checker, setup: SalSetup, ref: Reference) -> None:
  """The exact optimum at ``LIMIT_L`` tokens against the first-order forms, each within its next-order term.

  Args:
    c: the checker.
    setup: the run's specs.
    ref: the reference (``ref.limit`` set).

  Returns:
    None (the checks are added to ``c``).

  Reference: docs page "softmax_as_linear", section "What is checked and why" (kappa_limit, t_star_limit, F_limit).
  """
  assert ref.limit is not None   # the caller checks
  lim, sec, s_w = ref.limit, ref.limit["next"], float(setup.task.prior_var)
  n = LIMIT_L
  c("kappa_limit", f"exact b sqrt(t) at L' = {n} vs 1 - kappa/L'", 1 - ref.kappa / n, lim["product"], se=0.0,
    floor=abs(sec["kappa2_opt"]) / n**2)
  c("t_star_limit", f"exact t_L' at L' = {n} vs t*", ref.t_star, lim["t"], se=0.0, floor=abs(sec["tau1"]) / n)
  c("F_limit", f"exact L' excess at L' = {n} vs F(t*)", ref.F, n * lim["excess"], se=0.0,
    floor=s_w * abs(sec["F2"]) / n)


def _gaussian_checks(c: Checker, setup: SalSetup, ref: Reference, fit: trained.LayerFit,
                     test: dict[str, np.ndarray]) -> None:
  """The trained softmax layer against the exact finite-L optimum, the balanced end point and the first order."""
  L, v, se = setup.task.L, fit.values, fit.se
  ex, sec, s_w = ref.exact, ref.second, float(setup.task.prior_var)
  if ex is not None:
    c("finite_t", f"trained t = (tr(Sigma A)/d)^2 vs exact t_L (L = {L})", ex["t"], v["t"], se=se["t"])
    c("finite_product", f"trained b tr(Sigma A)/d vs the exact finite-L product (L = {L})", ex["product"],
      v["product"], se=se["product"])
    c("finite_excess", f"trained L excess vs exact L excess_L (+ fixed-sample {L * fit.allowance:.3g})",
      L * (ex["excess"] + fit.allowance), L * test["softmax"][0], se=L * test["softmax"][1])
  inv = np.linalg.inv(ref.cov)
  t_bal = float(np.trace(inv @ inv)) ** -0.5
  if abs(t_bal - (ex["t"] if ex is not None else ref.t_star)) > 8 * se["t"]:   # a control only where separated
    c("not_balanced", "trained t vs Thm 5.1's balanced tr(Sigma^-2)^-1/2 (must differ)", t_bal, v["t"], se=se["t"])
  if not np.isfinite(sec["tau1"]):
    return
  # The first-order forms at the run's own L, each where its next-order term is below the first-order effect.
  if abs(sec["kappa2_opt"]) / L**2 < ref.k_full / L:
    c("kappa_trained", f"trained product vs 1 - {'kappa' if isotropic(ref.cov) else 'k'}/L", 1 - ref.k_full / L,
      v["product"], se=se["product"], floor=abs(sec["kappa2_opt"]) / L**2)
  if abs(sec["tau1"]) / L < ref.t_star:
    c("t_star_trained", "trained t vs t* (+- tau1/L)", ref.t_star, v["t"], se=se["t"], floor=abs(sec["tau1"]) / L)
  if s_w * abs(sec["F2"]) / L < ref.F:
    c("F_trained", "trained L excess vs F(t*) (+- |F2|/L)", ref.F, L * test["softmax"][0],
      se=L * test["softmax"][1], floor=s_w * abs(sec["F2"]) / L)
  if not isotropic(ref.cov):
    shape = ref.theta * setup.task.d / (L * float(np.trace(inv)))
    c("aniso_shape", "Sigma^-1 coefficient of Sigma b A vs theta d / (L tr Sigma^-1)", shape, v["shape"],
      se=se["shape"], floor=abs(shape))


def _linear_checks(c: Checker, setup: SalSetup, ref: Reference, fits: dict[str, trained.LayerFit],
                   test: dict[str, np.ndarray]) -> None:
  """Linear attention at the same L against its optimum, and the paired softmax - linear excess."""
  L, lin = setup.task.L, fits["linear"]
  c("linear_product", "linear attention tr(Sigma b A)/d vs tr(Sigma B_lin)/d",
    float(np.trace(ref.cov @ ref.linear_b)) / setup.task.d, lin.values["product"], se=lin.se["product"])
  lin_ref = ref.linear_excess + lin.allowance
  c("linear_excess", "linear attention L excess vs L excess_lin", L * lin_ref, L * test["linear"][0],
    se=L * test["linear"][1])
  if ref.exact is not None:
    soft_ref = ref.exact["excess"] + fits["softmax"].allowance
    c("softmax_minus_linear", "L (softmax - linear excess), same prompts", L * (soft_ref - lin_ref),
      L * test["difference"][0], se=L * test["difference"][1])


def finite_checks(c: Checker, setup: SalSetup, ref: Reference, params: dict[str, Any],
                  fits: dict[str, trained.LayerFit], test: dict[str, np.ndarray]) -> list[str]:
  """Every check of the trained finite-L layers that applies to the run's setting.

  Args:
    c: the checker.
    setup: the run's specs.
    ref: the reference.
    params: the trained layers.
    fits: the trained layers' fits.
    test: excess on the test prompts.

  Returns:
    Notes.

  Reference: Boursier & Boyer (2025), Thm 4.3 and Thm 5.1 at finite L;
  docs page "softmax_as_linear", section "What is checked and why".
  """
  spec, notes = setup.task, []
  for name, fit in fits.items():
    if spec.tokens == "rademacher" and name == "softmax":   # no minimiser: the temperature grows without bound
      notes.append(f"rademacher tokens: the softmax layer has no minimiser (exact-match retrieval as the inverse "
                   f"temperature grows); after training t = {fit.values['t']:.3g}, L excess = "
                   f"{spec.L * test['softmax'][0]:.3g}")
      continue
    c("converged", f"{name}: largest Newton step of the training objective / s.e.", 0.0, fit.newton)
  sm = fits["softmax"]
  if spec.data_bug:
    c("stated_design", "|b A/|b A|_F - Sigma^-1/|Sigma^-1|_F|_F (the paper's design)", 0.0,
      _direction_gap(params["softmax"], ref.cov))
    c("context_design", "|b A/|b A|_F - Gamma_ctx^-1/|Gamma_ctx^-1|_F|_F (the sampled design)", 0.0,
      _direction_gap(params["softmax"], ref.ctx_cov))
    notes.append(f"the authors' sampler: b tr(Sigma A)/d = {sm.values['product']:.4f}, b tr(Gamma_ctx A)/d = "
                 f"{sm.values['context_product']:.4f}")
    return notes
  if spec.tokens == "gaussian":
    _gaussian_checks(c, setup, ref, sm, test)
    if "linear" in fits:
      _linear_checks(c, setup, ref, fits, test)
  elif spec.tokens == "uniform" and ref.exact is not None:
    L, v, se = spec.L, sm.values, sm.se
    c("gaussian_product_control", "uniform tokens: trained product vs the Gaussian finite-L product",
      ref.exact["product"], v["product"], se=se["product"])
    c("gaussian_excess_control", "uniform tokens: trained L excess vs the Gaussian exact L excess_L",
      L * ref.exact["excess"], L * test["softmax"][0], se=L * test["softmax"][1])
    c("product_above_one", "uniform tokens: trained product - 1", 0.0, v["product"] - 1, se=se["product"])
  else:
    notes.append(f"{spec.tokens} tokens: no trained-layer check (the layer runs to exact-match retrieval)")
  return notes


def _direction_gap(layer: dict[str, Any], cov: np.ndarray) -> float:
  """``|b A / |b A|_F - cov^-1 / |cov^-1|_F|_F``: how far the trained product is from the direction of
  ``cov^-1`` (scale-free: the O(1/L) scalar shrink does not enter)."""
  m = float(layer["b"]) * np.asarray(layer["A"], np.float64)
  inv = np.linalg.inv(cov)
  return float(np.linalg.norm(m / np.linalg.norm(m) - inv / np.linalg.norm(inv)))
