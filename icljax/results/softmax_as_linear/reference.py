"""The theory of a softmax-as-linear run's setting, computed once before training: the first-order forms on the
valley (t*, kappa, F), their second-order offsets, the anisotropic shrink, the exact finite-L optimum at the run's
L and at a large L, the linear-attention optimum and the balanced end point of R_inf.

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Sec. 4-5 (R_L, R_inf, Thm 4.3, Thm 5.1); docs page
"softmax_as_linear", section "What is checked and why".
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from icljax.results.softmax_as_linear.setup import SalSetup
from icljax.theory import softmax_as_linear as theory
from icljax.theory import softmax_as_linear_exact as exact
from icljax.theory import softmax_as_linear_finite as finite

LIMIT_L = 2**16   # the prompt length at which the exact optimum is compared with the first-order forms


@dataclasses.dataclass(frozen=True)
class Reference:
  """The theory of a run's setting (None where it does not apply).

  Attributes:
    cov: Sigma (float64); ctx_cov / query_cov: the context and query covariances actually sampled.
    t_star, kappa, F: first order on the valley ``A = sqrt(t) Sigma^-1``.
    k_full, theta: the first-order shrink ``tr(Sigma b A)/d = 1 - k_full/L`` of the optimum over all A and the
      coefficient of its Sigma^-1 shape (:func:`finite.anisotropic_product`; ``k_full = kappa``, ``theta`` unused
      when Sigma is isotropic).
    second: second-order offsets (``tau1``, ``F2``, ``kappa2_opt``), inf when ``t* >= 1/6``.
    exact: the exact finite-L optimum of Gaussian tokens at L (isotropic Sigma, no sampler bug; for non-Gaussian
      tokens it is the Gaussian prediction the controls reject).
    limit: the exact optimum at ``LIMIT_L`` tokens (Gaussian tokens, d >= 4), against the first-order forms, with
      the second-order terms at its t (``limit['next']``) as the truncation bounds.
    linear_b, linear_excess: the linear-attention optimum at L.
    pop_a, pop_b: the balanced end point of R_inf.

  Reference: Boursier & Boyer (2025), Sec. 4-5; docs page "softmax_as_linear", section "What is checked and why".
  """

  cov: np.ndarray
  ctx_cov: np.ndarray
  query_cov: np.ndarray
  t_star: float
  kappa: float
  k_full: float
  theta: float
  F: float
  second: dict[str, float]
  exact: dict[str, float] | None
  limit: dict[str, Any] | None   # exact.finite_optimum's floats, and the second-order terms under 'next'
  linear_b: np.ndarray
  linear_excess: float
  pop_a: np.ndarray
  pop_b: float


def isotropic(cov: np.ndarray) -> bool:
  """Whether Sigma is a multiple of the identity.

  Args:
    cov: Sigma.

  Returns:
    True for ``Sigma = s^2 I``.

  Reference: docs page "softmax_as_linear", section "What is checked and why" (the isotropic checks).
  """
  return bool(np.allclose(cov, cov[0, 0] * np.eye(len(cov))))


def reference(setup: SalSetup) -> Reference:
  """The theory of the run's setting.

  Args:
    setup: the run's specs.

  Returns:
    The reference values.

  Reference: docs page "softmax_as_linear", section "What is checked and why".
  """
  spec = setup.task
  cov = np.asarray(spec.cov, np.float64)
  d, L, trace = spec.d, spec.L, float(np.trace(cov))
  s_w = float(spec.prior_var)
  noise = float(spec.sigma) ** 2 / s_w
  ts = finite.t_star(d, trace, noise)
  k, theta = finite.anisotropic_product(ts, cov, noise)
  iso = isotropic(cov)
  ex: dict[str, float] | None = None
  limit: dict[str, Any] | None = None
  second = finite.second_order_at_optimum(d, trace, noise)
  if iso and spec.tokens != "rademacher" and not spec.data_bug:
    ex = exact.finite_optimum(L, d, trace, noise, s_w)
  if spec.tokens == "gaussian" and not spec.data_bug and d >= 4:   # d <= 3: the second-order terms are too large
    optimum = exact.finite_optimum(LIMIT_L, d, trace, noise, s_w)
    limit = {**optimum, "next": finite.second_order_at_optimum(d, trace, noise, at=optimum["t"])}
  lin_b, lin_ex = theory.linear_attention_optimum(spec.context_cov(), L, noise, s_w)
  pop_a, pop_b = theory.balanced_endpoint(cov)
  return Reference(cov=cov, ctx_cov=spec.context_cov(), query_cov=spec.query_cov(), t_star=ts,
                   kappa=finite.kappa(ts, d, trace, noise), k_full=k, theta=theta,
                   F=finite.first_order_excess(ts, d, trace, noise, s_w),
                   second=second, exact=ex, limit=limit, linear_b=lin_b,
                   linear_excess=lin_ex, pop_a=pop_a, pop_b=pop_b)
