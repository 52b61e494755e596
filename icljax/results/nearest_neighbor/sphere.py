"""Result 2's sphere lemmas and the slope at initialisation (extra ``'sphere'``), at the run's own d, N, sigma.

Quadratures of the law of the inner products (tau = <x_j, x_{N+1}> has density k_d (1 - t^2)^{(d-3)/2}; with
tau = cos(theta) the density of theta is k_d sin(theta)^(d-2), smooth for every d >= 2) against Monte Carlo on the
run's fresh evaluation prompts (the task's own sampler):

* E[tau_(1)], the nearest neighbour's inner product (theory), and Li et al.'s Lemma bound E[tau_{i*}] >= 2/(N+1)^2
  (claim);
* the top-two gap G = tau_(1) - tau_(2): xi E[exp(-xi G)] at several xi (theory), and the lemma's
  Theta(1/xi) scaling, i.e. xi E[exp(-xi G)] tends to the gap's density at 0, f_G(0) = N (N-1) int F^(N-2) f^2
  (claim: the last two xi agree within 25%);
* P5, the slope at initialisation: dL/dxi1 (0, sigma) = -E[tau_(1)]/c + e^{-2 sigma}/c^3, c = N + e^{-sigma}, with
  E[tau_(1)] from the quadrature, against the library's gradient on the same prompts (theory).

Reference: Li et al. (2024), Lemmas 17-20 (sphere facts); P5 derived in the theorem's docs page.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from icljax.experiment.checks import Checker
from icljax.results.nearest_neighbor.plan import NNContext
from icljax.results.nearest_neighbor.setup import NNSetup
from icljax.theory import nearest_neighbor as theory

GAP_XI = (10.0, 100.0, 1000.0)


def _grid(d: int, points: int = 20001) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """theta grid on [0, pi], tau = cos(theta), the density of theta and the CDF F(tau) = P(tau' <= tau)."""
  theta = np.linspace(0.0, np.pi, points)
  g = theory.tau_density_constant(d) * np.sin(theta) ** (d - 2)
  upper = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(theta))])   # P(theta' <= theta)
  return theta, g, 1.0 - upper / upper[-1]


def expected_max_tau(d: int, n: int) -> float:
  """``E[tau_(1)]``: the largest of N i.i.d. inner products, by quadrature (d >= 2).

  Args:
    d: input dimension.
    n: context examples N.

  Returns:
    The expectation.

  Reference: Li et al. (2024), Lemmas 17-20 (the law of tau); docs page "nearest_neighbor", section "What is checked and
    why" (sphere_tau).
  """
  theta, g, cdf = _grid(d)
  return float(np.trapezoid(np.cos(theta) * n * cdf ** (n - 1) * g, theta))


def gap_laplace(d: int, n: int, xi: float, nodes: int = 80) -> float:
  """``xi E[exp(-xi (tau_(1) - tau_(2)))]`` by quadrature: outer over tau_(2) = b on the theta grid, inner
  Gauss-Laguerre over u = xi (tau_(1) - b).

  Args:
    d: input dimension (>= 3: the density of tau is bounded).
    n: context examples N >= 2.
    xi: the scale.
    nodes: Gauss-Laguerre nodes.

  Returns:
    The value (tends to f_G(0) as xi grows).

  Reference: Li et al. (2024), the top-two gap lemma (Lemmas 17-20); docs page "nearest_neighbor", section "What is
    checked and why" (sphere_gap).
  """
  theta, g, cdf = _grid(d, 4001)
  b = np.cos(theta)
  u, w = np.polynomial.laguerre.laggauss(nodes)
  a = b[:, None] + u[None, :] / xi
  f_a = np.where(a < 1.0, theory.tau_density_constant(d) * np.clip(1 - a**2, 0.0, None) ** ((d - 3) / 2), 0.0)
  inner = f_a @ w
  return float(np.trapezoid(n * (n - 1) * cdf ** (n - 2) * g * inner, theta))


def checks(c: Checker, setup: NNSetup, ctx: NNContext, out: dict[str, Any]) -> None:
  """Adds the sphere-lemma and P5 checks on the run's fresh evaluation prompts.

  Args:
    c: the run's checker.
    setup: the run's specs.
    ctx: the evaluation inner products.
    out: notes and scalars of the evaluation.

  Returns:
    None: the checks are added to ``c`` and the values to ``out``.

  Reference: docs page "nearest_neighbor", section "What is checked and why" (sphere_tau, sphere_gap, P5).
  """
  d, n, sigma = setup.task.d, setup.task.N, float(ctx.xi0[1])
  tau = np.sort(np.asarray(ctx.tau_eval, np.float64), axis=-1)
  top, m = tau[:, -1], len(tau)
  e_max = expected_max_tau(d, n)
  c("sphere_tau", f"E[tau_(1)] on {m} fresh prompts vs quadrature", e_max, float(top.mean()),
    se=float(top.std() / np.sqrt(m)))
  c("sphere_bound", "Li et al.: E[tau_{i*}] >= 2/(N+1)^2", 2 / (n + 1) ** 2, float(top.mean()))
  if d >= 3:
    gap = top - tau[:, -2]
    values = []
    for xi in GAP_XI:
      per = xi * np.exp(-xi * gap)
      values.append(float(per.mean()))
      c("sphere_gap", f"xi E[exp(-xi (tau_(1) - tau_(2)))] at xi = {xi:g} vs quadrature", gap_laplace(d, n, xi),
        values[-1], se=float(per.std() / np.sqrt(m)))
    c("sphere_gap_rate", f"top-two gap lemma, Theta(1/xi): xi E[exp(-xi G)] at xi = {GAP_XI[-1]:g} over xi = "
      f"{GAP_XI[-2]:g}", 1.0, values[-1] / values[-2])
    out["scalars"]["gap_density_at_0"] = gap_laplace(d, n, 1e6)
  c0 = n + np.exp(-sigma)
  slope = -e_max / c0 + np.exp(-2 * sigma) / c0**3
  per_prompt = np.asarray(jax.vmap(lambda t: theory.grads(ctx.xi0, t[None]))(ctx.tau_eval)[:, 0], np.float64)
  c("p5_slope", f"P5: dL/dxi1 at (0, {sigma:g}) vs -E[tau_(1)]/c + e^(-2 sigma)/c^3", float(slope),
    float(per_prompt.mean()), se=float(per_prompt.std() / np.sqrt(m)))
  out["scalars"].update(expected_max_tau=e_max, p5_slope_closed_form=float(slope))
