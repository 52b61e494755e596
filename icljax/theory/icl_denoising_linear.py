"""Linear attention on in-context denoising (Smart, Bietti & Sengupta 2025, Section 3.1): the exact finite-L optimum
``gamma*_L`` of ``W_PV W_KQ = gamma I`` on subspaces and on spheres, its risk, its L -> infinity limit (eq. (10)),
and the balanced end point of plain gradient descent (the rescaling symmetry of eq. (11)).

Reference: Smart, Bietti & Sengupta (2025), arXiv 2502.05164, Section 3.1, eqs. (10)-(11); the finite-L optima and
the balanced end point are derived in the docs page "icl_denoising".
"""

from __future__ import annotations

import math


def linear_gamma_limit(sigma0_sq: float, sigma_z_sq: float) -> float:
  """The paper's optimal ``alpha beta`` of linear attention on subspaces, ``1 / (sigma0^2 + sigma_z^2)``: the
  L -> infinity limit of :func:`linear_gamma_star`.

  Args:
    sigma0_sq: token variance per coordinate.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    gamma.

  Reference: Smart, Bietti & Sengupta (2025), Section 3.1, eq. (10).
  """
  return 1.0 / (sigma0_sq + sigma_z_sq)


def linear_gamma_star(d: int, L: int, sigma0_sq: float, sigma_z_sq: float) -> float:
  """The exact finite-L optimum of linear attention on d-dimensional subspaces,
  ``gamma*_L = 1 / [(sigma0^2 + sigma_z^2)(1 + (d+1)/L)]`` (the Wishart moment
  ``E[C^2] = sigma0^4 (1 + (d+1)/L) P`` of ``C = (1/L) sum_t X_t X_t^T``). It does not depend on n.

  Args:
    d: subspace dimension.
    L: clean context tokens.
    sigma0_sq: token variance per coordinate.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    gamma*_L.

  Reference: Smart, Bietti & Sengupta (2025), Section 3.1, eq. (10) (its L -> infinity limit); the finite-L optimum
  is derived in the theorem's docs page.
  """
  return 1.0 / ((sigma0_sq + sigma_z_sq) * (1.0 + (d + 1) / L))


def linear_risk(gamma: float, d: int, L: int, sigma0_sq: float, sigma_z_sq: float) -> float:
  """The risk of linear attention at ``W_PV W_KQ = gamma I`` on subspaces,
  ``d sigma0^2 - 2 gamma d sigma0^4 + gamma^2 d sigma0^4 (sigma0^2 + sigma_z^2)(1 + (d+1)/L)``.

  Args:
    gamma: alpha beta.
    d: subspace dimension.
    L: clean context tokens.
    sigma0_sq: token variance per coordinate.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    The total risk.

  Reference: Smart, Bietti & Sengupta (2025), Section 3.1 (eq. (10)); derived in the theorem's docs page.
  """
  s4 = sigma0_sq**2
  return d * sigma0_sq - 2 * gamma * d * s4 + gamma**2 * d * s4 * (sigma0_sq + sigma_z_sq) * (1.0 + (d + 1) / L)


def sphere_linear_gamma_star(d: int, L: int, radius: float, sigma_z_sq: float) -> float:
  """The exact finite-L optimum of linear attention on radius-R spheres ``S^d``,
  ``gamma*_L = 1 / [(R^2/(d+1) + sigma_z^2)(1 + d/L)]`` (tokens of norm R: ``E||X||^2 X X^T = R^4/(d+1) P``).

  Args:
    d: the sphere's dimension.
    L: clean context tokens.
    radius: R.
    sigma_z_sq: noise variance per coordinate.

  Returns:
    gamma*_L.

  Reference: Smart, Bietti & Sengupta (2025), Section 3.1 and Fig. 7 (linear attention on spheres); derived in the
  theorem's docs page.
  """
  return 1.0 / ((radius**2 / (d + 1) + sigma_z_sq) * (1.0 + d / L))


def balanced_weights(delta0: float, n: int, gamma: float) -> tuple[float, float]:
  """The end point ``(alpha I, beta I)`` of gradient flow on linear attention from an initialisation with
  ``||W_PV||^2 - ||W_KQ||^2 = delta0``: the rescaling symmetry ``(c W_PV, W_KQ / c)`` of eq. (11) conserves the
  difference, so ``n (alpha^2 - beta^2) = delta0`` and ``alpha beta = gamma``.

  Args:
    delta0: the initial difference of squared Frobenius norms.
    n: ambient dimension.
    gamma: the product at the end point.

  Returns:
    ``(alpha, beta)``, both positive (the sign-flipped pair is equivalent).

  Reference: Smart, Bietti & Sengupta (2025), eq. (11) and Section 3.1; derived in the theorem's docs page.
  """
  h = delta0 / n
  alpha = math.sqrt((h + math.sqrt(h * h + 4.0 * gamma * gamma)) / 2.0)
  return alpha, gamma / alpha
