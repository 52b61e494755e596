"""The finite-prompt optimum of the softmax regression layer of Boursier & Boyer (2025) in powers of 1/L.

Setting (Sec. 5, Eq. 7, with label noise): tokens and query ``N(0, Sigma)``, ``w ~ N(0, s_w I)``, label noise
``sigma^2``, ``sigma_e^2 = sigma^2 / s_w``, ``T = tr Sigma``, prediction ``b sum_i p_i y_i`` with
``p = softmax(x_i^T A x)``; excess ``:= E(y_hat - w^T x)^2``. On the valley ``A = sqrt(t) Sigma^-1`` (``t``: the
squared inverse temperature) a self-normalised (delta-method) expansion of the softmax sums gives

* ``excess = F(t)/L + F2(t)/L^2 + ...``, ``F(t) = s_w [T (1-2t)^{-d/2-1} + (T + sigma_e^2) (1-2t)^{-d/2} / t]``;
* ``t*`` minimises ``F``: the smaller root of ``(d+2)(T + 2 sigma_e^2) t^2 - (T + sigma_e^2)(d+4) t +
  (T + sigma_e^2) = 0``;
* the optimal value scale gives the end-to-end product ``b sqrt(t) = 1 - kappa/L + kappa2/L^2``,
  ``kappa = (T + sigma_e^2)(1-2t)^{-d/2} / (t T)``.

The second-order coefficients need ``t < 1/6`` (moments ``E e^{3 t |g|^2}``); the series is asymptotic, and at
practical L (d = 5: L <= 10^4) its second-order term overstates the true remainder (the exact finite-L optimum is
in ``icljax.theory.softmax_as_linear_exact``). For anisotropic Sigma the full ``b A`` has an O(1/L) part along
``Sigma^-2`` (:func:`anisotropic_product`).

Reference: Boursier & Boyer (2025), arXiv 2512.11784, Sec. 4-5 (R_L, Thm 4.3, Thm 5.1); the expansion is ours,
derived in the docs page "softmax_as_linear", section "What is checked and why".
"""

from __future__ import annotations

import math

import numpy as np

from icljax.theory import softmax_as_linear as theory

# Delta-method coefficients of the one-dimensional self-normalised sums (u_i i.i.d. N(0, 1), p ~ exp(alpha u)):
# order n -> terms (j, k, c) meaning c alpha^{2j} e^{k alpha^2}; S1 = sum p_i u_i.
_ALPHA_M1 = ([(1, 0, 1)], [(1, 1, -1)], [(1, 3, 2), (1, 2, -3), (1, 1, 1)])            # alpha E[S1]
_M2 = ([(1, 0, 1)], [(0, 1, 1), (1, 1, -1)],                                             # E[S1^2]
       [(1, 3, -4), (0, 3, -2), (1, 2, 3), (0, 2, 3), (1, 1, 1), (0, 1, -1)])
_PI2: tuple[list[tuple[int, int, int]], ...] = ([], [(0, 1, 1)], [(0, 3, -2), (0, 2, 3), (0, 1, -1)])  # E[sum p_i^2]


def t_star(d: int, trace: float, noise_ratio: float = 0.0) -> float:
  """The first-order optimal squared inverse temperature ``t*`` (the minimiser of ``F``).

  Args:
    d: token dimension.
    trace: ``T = tr Sigma``.
    noise_ratio: ``sigma_e^2 = sigma^2 / s_w``.

  Returns:
    ``t*`` (noiseless: ``((d+4) - sqrt(d^2 + 4d + 8)) / (2(d+2))``, independent of Sigma).

  Reference: Boursier & Boyer (2025), Thm 5.1 and Sec. 4 (finite L); the expansion is derived in the theorem's
  docs page.
  """
  qa = (d + 2) * (trace + 2 * noise_ratio)
  qb = (trace + noise_ratio) * (d + 4)
  qc = trace + noise_ratio
  return (qb - math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)


def first_order_excess(t: float, d: int, trace: float, noise_ratio: float = 0.0, prior_var: float = 1.0) -> float:
  """``F(t) = lim L excess`` on the valley ``A = sqrt(t) Sigma^-1`` with the optimal value scale.

  Args:
    t: squared inverse temperature, in (0, 1/2).
    d: token dimension.
    trace: ``tr Sigma``.
    noise_ratio: ``sigma^2 / s_w``.
    prior_var: s_w.

  Returns:
    ``s_w [T (1-2t)^{-d/2-1} + (T + sigma_e^2)(1-2t)^{-d/2} / t]`` (inf for ``t >= 1/2``).

  Reference: Boursier & Boyer (2025), Sec. 4-5 (the finite-L risk R_L); derived in the theorem's docs page.
  """
  u = 1 - 2 * t
  if u <= 0:
    return math.inf
  return prior_var * (trace * u ** (-d / 2 - 1) + (trace + noise_ratio) * u ** (-d / 2) / t)


def kappa(t: float, d: int, trace: float, noise_ratio: float = 0.0) -> float:
  """The first-order shrink of the end-to-end product: ``b sqrt(t) = 1 - kappa/L``.

  Args:
    t: squared inverse temperature, in (0, 1/2).
    d: token dimension.
    trace: ``tr Sigma``.
    noise_ratio: ``sigma^2 / s_w``.

  Returns:
    ``(T + sigma_e^2)(1-2t)^{-d/2} / (t T)`` (inf for ``t >= 1/2``).

  Reference: Boursier & Boyer (2025), Sec. 4-5; derived in the theorem's docs page.
  """
  if t >= 0.5:
    return math.inf
  return (trace + noise_ratio) * (1 - 2 * t) ** (-d / 2) / (t * trace)


def anisotropic_product(t: float, cov: np.ndarray, noise_ratio: float = 0.0) -> tuple[float, float]:
  """The O(1/L) shape of the optimal ``b A`` for any Sigma (A free, not only on the valley):
  ``Sigma b A = (1 - (k + theta)/L) I + (theta d / (L tr Sigma^-1)) Sigma^-1``, so ``tr(Sigma b A)/d = 1 - k/L``.

  With ``c1 = (1-2t)^{-d/2-1}``, ``s2 = 1/(1-2t)``, ``nu = 1 - d^2/(T tr Sigma^-1)`` (0 iff Sigma is isotropic):
  ``k = (kappa - 2 nu t s2 c1) / (1 - nu)`` and ``theta = 2 t s2 c1 - k``.

  Args:
    t: squared inverse temperature.
    cov: (d, d) Sigma.
    noise_ratio: ``sigma^2 / s_w``.

  Returns:
    ``(k, theta)`` (inf for ``t >= 1/2``).

  Reference: Boursier & Boyer (2025), Sec. 5 (anisotropic Sigma); derived in the theorem's docs page.
  """
  cov = np.asarray(cov, np.float64)
  d, trace = len(cov), float(np.trace(cov))
  if t >= 0.5:
    return math.inf, math.inf
  nu = 1 - d * d / (trace * float(np.trace(np.linalg.inv(cov))))
  lead = 2 * t / (1 - 2 * t) * (1 - 2 * t) ** (-d / 2 - 1)
  k = (kappa(t, d, trace, noise_ratio) - nu * lead) / (1 - nu)
  return k, lead - k


def expansion(t: float, d: int, trace: float, noise_ratio: float = 0.0) -> dict[str, float]:
  """The 1/L expansion of the optimal-b excess and product on the valley, to second order.

  ``P = E[x_bar_p^T x]`` and ``R = E[|x_bar_p|^2 + sigma_e^2 sum p_i^2]`` reduce to one-dimensional
  self-normalised sums along the query (``P = T/(d sqrt t) E[alpha S1]``,
  ``R = (T/d) E[S1^2] + (T(d-1)/d + sigma_e^2) E[sum p^2]``); then ``excess / s_w = T - P^2/R`` and
  ``b sqrt(t) = sqrt(t) P / R``.

  Args:
    t: squared inverse temperature, in (0, 1/6) for the second order.
    d: token dimension.
    trace: ``tr Sigma``.
    noise_ratio: ``sigma^2 / s_w``.

  Returns:
    ``{'F': ..., 'F2': ..., 'kappa': ..., 'kappa2': ...}`` per unit s_w (excess ``= s_w (F/L + F2/L^2)``, product
    ``1 - kappa/L + kappa2/L^2``).

  Reference: Boursier & Boyer (2025), Sec. 4-5; derived in the theorem's docs page.
  """
  ev = lambda terms: sum(c * theory.chi2_tilt_moment(j, k, t, d) for j, k, c in terms)
  p = [trace / (d * math.sqrt(t)) * ev(x) for x in _ALPHA_M1]
  r = [trace / d * ev(m) + (trace * (d - 1) / d + noise_ratio) * ev(q) for m, q in zip(_M2, _PI2)]
  p1, p2, r1, r2 = p[1] / p[0], p[2] / p[0], r[1] / r[0], r[2] / r[0]
  return {"F": trace * (r1 - 2 * p1), "F2": trace * (r2 - 2 * p2 - (p1 - r1) ** 2), "kappa": r1 - p1,
          "kappa2": p2 - r2 - p1 * r1 + r1**2}


def second_order_at_optimum(d: int, trace: float, noise_ratio: float = 0.0, h: float = 1e-5,
                            at: float | None = None) -> dict[str, float]:
  """The 1/L offsets of the finite-L optimum: ``t_L = t* + tau1/L``, ``L excess = s_w (F(t*) + F2(t*)/L)`` and
  ``b sqrt(t) = 1 - kappa/L + kappa2_opt/L^2`` with ``kappa2_opt = kappa2(t*) - kappa'(t*) tau1``.

  Args:
    d: token dimension.
    trace: ``tr Sigma``.
    noise_ratio: ``sigma^2 / s_w``.
    h: step of the central differences in t.
    at: evaluate the coefficients at this t instead of at ``t*`` (e.g. an exact finite-L optimum near ``t*``).

  Returns:
    ``{'t_star', 'tau1', 'F', 'F2', 'kappa', 'kappa2_opt'}`` (per unit s_w; ``t_star`` is the point used); ``tau1``
    is inf when that point is >= 1/6.

  Reference: Boursier & Boyer (2025), Sec. 4-5; derived in the theorem's docs page.
  """
  ts = t_star(d, trace, noise_ratio) if at is None else at
  if ts >= 1 / 6 - 2 * h:
    return {"t_star": ts, "tau1": math.inf, "F": first_order_excess(ts, d, trace, noise_ratio), "F2": -math.inf,
            "kappa": kappa(ts, d, trace, noise_ratio), "kappa2_opt": math.inf}
  expand = lambda x: expansion(x, d, trace, noise_ratio)
  lo, mid, hi = expand(ts - h), expand(ts), expand(ts + h)
  f_curv = (hi["F"] - 2 * mid["F"] + lo["F"]) / h**2
  tau1 = -(hi["F2"] - lo["F2"]) / (2 * h) / f_curv
  kappa_slope = (hi["kappa"] - lo["kappa"]) / (2 * h)
  return {"t_star": ts, "tau1": tau1, "F": mid["F"], "F2": mid["F2"], "kappa": mid["kappa"],
          "kappa2_opt": mid["kappa2"] - kappa_slope * tau1}
