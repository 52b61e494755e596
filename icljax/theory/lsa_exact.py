"""The exact population loss of a one-layer LSA on Gaussian in-context linear regression (the lsa theorem, no
sampling).

Derivation (every convention of ``models.lsa``). Given w*, the context tokens ``v_i = [x_i; y_i]`` are i.i.d.
``N(0, C)`` with ``C = [[S, S w*], [w*^T S, w*^T S w* + sigma^2]]`` (S = Sigma), so ``W = sum_i v_i v_i^T`` is
Wishart(C, n), independent of the query. With ``u = W_V^T h``, ``M = W_K^T W_Q``, ``c`` the normalisation factor,
``P = [I_d; 0]`` and ``h_x`` the x-part of h under a residual (0 otherwise)::

    y_hat = phi^T x_q (+ e),   phi = c P^T M^T W u + h_x,   e = c (u_x^T x_q)(x_q^T M_11 x_q)  (query among keys)

1. ``E[W A W] = n(n+1) C A C + n tr(A C) C`` for symmetric A (Isserlis on each token; the issue's
   ``C A C + (C A^T C + tr(AC) C)/n`` in the 1/n convention). With ``A = M P S P^T M^T``:
   ``E[phi^T S phi] = c^2 u^T [n(n+1) C A C + n tr(AC) C] u + 2 c n h_x^T S P^T M^T C u + h_x^T S h_x`` and
   ``E[phi] = c n P^T M^T C u + h_x``.
2. Given phi (independent of the query), ``E[(phi^T x_q - y_q)^2] = (phi - w*)^T S (phi - w*) + sigma^2``.
3. With the query among the keys (x_q ~ N(0, S), B = sym(M_11), s = u_x^T S u_x, t = tr(B S)):
   ``E[x_q e] = c (S u_x t + 2 S B S u_x)`` and
   ``E[e^2] = c^2 (s (t^2 + 2 tr((BS)^2)) + 4 t u_x^T S B S u_x + 8 u_x^T S B S B S u_x)``, so the loss gains
   ``2 (E[phi] - w*)^T E[x_q e] + E[e^2]``.
4. The result is a polynomial of degree 4 in w*, so its expectation over ``w* ~ N(0, Psi)`` (Psi = I or S^-1) is
   exact with the fully symmetric degree-5 Gaussian cubature of :func:`cubature5` (2 d^2 + 1 nodes).

Covered: full (W_K, W_Q, W_V, h) and reduced (w, M) parameters, any Sigma, any Gaussian prior, any sigma, normalisation
1/n, 1 or 1/(n+1), query among keys or not, residual or not. Not covered: nonlinear targets (labels not
Gaussian given x); there the toolkit samples.

Reference: Mahankali, Hashimoto, Ma (2023), the pre-training loss of Theorems 1-2 (derived on the docs page "lsa",
section "What is checked and why"); the Wishart moment E[W A W] is standard (Isserlis' theorem on each token); the
cubature is the fifth-degree rule of Stroud (1967) as used by Jia, Xin, Cheng (2013).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from icljax._pytree import filter_jit
from icljax.models import lsa
from icljax.tasks import regression as task


def cubature5(d: int) -> tuple[np.ndarray, np.ndarray]:
  """A degree-5 cubature rule for the standard Gaussian in d dimensions: ``E f(xi) = sum_k w_k f(x_k)`` exactly
  for every polynomial f of total degree <= 5.

  Nodes: 0 (weight 2/(d+2)); ``+-sqrt(d+2) e_i`` (weight (4-d)/(2 (d+2)^2)); ``sqrt((d+2)/2) (+-e_i +- e_j)``,
  i < j (weight 1/(d+2)^2). The weights sum to 1 and match E xi_i^2 = 1, E xi_i^4 = 3, E xi_i^2 xi_j^2 = 1.

  Args:
    d: dimension, >= 1.

  Returns:
    ``(nodes (2d^2+1, d), weights (2d^2+1,))`` in float64.

  Reference: Stroud (1967); Jia, Xin, Cheng (2013), the fifth-degree cubature rule.
  """
  eye = np.eye(d)
  nodes, weights = [np.zeros(d)], [2.0 / (d + 2)]
  for i in range(d):
    for sign in (1.0, -1.0):
      nodes.append(sign * np.sqrt(d + 2.0) * eye[i])
      weights.append((4.0 - d) / (2.0 * (d + 2) ** 2))
  for i in range(d):
    for j in range(i + 1, d):
      for si in (1.0, -1.0):
        for sj in (1.0, -1.0):
          nodes.append(np.sqrt((d + 2) / 2.0) * (si * eye[i] + sj * eye[j]))
          weights.append(1.0 / (d + 2) ** 2)
  return np.array(nodes), np.array(weights)


def _query_terms(u_x: jax.Array, m11: jax.Array, cov: jax.Array, c: float) -> tuple[jax.Array, jax.Array]:
  """``E[x_q e]`` and ``E[e^2]`` of the query's own key term (step 3)."""
  b = 0.5 * (m11 + m11.T)
  su, sbs = cov @ u_x, cov @ b @ cov
  t = jnp.trace(b @ cov)
  s = u_x @ su
  x_e = c * (su * t + 2.0 * sbs @ u_x)
  e2 = c**2 * (s * (t**2 + 2.0 * jnp.trace(b @ cov @ b @ cov)) + 4.0 * t * (u_x @ sbs @ u_x)
               + 8.0 * (u_x @ sbs @ b @ su))
  return x_e, e2


def _loss_given_task(w_star: jax.Array, u: jax.Array, m: jax.Array, h_x: jax.Array, spec: task.RegressionSpec,
                     model: lsa.LsaSpec) -> jax.Array:
  d, n = spec.d, spec.n
  c = lsa.norm_factor(n, model.normalization)
  cov = spec.cov
  b = cov @ w_star
  beta = w_star @ b + spec.sigma**2
  big_c = jnp.block([[cov, b[:, None]], [b[None, :], beta[None, None]]])
  mp = m[:, :d]                                       # M P: only the first d columns of M act on the query
  a = mp @ cov @ mp.T
  cu = big_c @ u
  e_phi = c * n * (mp.T @ cu) + h_x
  e_waw = n * (n + 1) * (cu @ a @ cu) + n * jnp.trace(a @ big_c) * (u @ cu)
  e_phi_s_phi = c**2 * e_waw + 2.0 * c * n * (h_x @ cov @ (mp.T @ cu)) + h_x @ cov @ h_x
  loss = e_phi_s_phi - 2.0 * w_star @ cov @ e_phi + w_star @ b + spec.sigma**2
  if model.include_query:
    x_e, e2 = _query_terms(u[:d], m[:d, :d], cov, c)
    loss = loss + 2.0 * (e_phi - w_star) @ x_e + e2
  return loss


@filter_jit
def population_loss(params: dict[str, jax.Array], model: lsa.LsaSpec, spec: task.RegressionSpec) -> jax.Array:
  """``E (y_hat - y_q)^2`` over prompts, exactly (module docstring), jit-able and differentiable.

  Args:
    params: full (``W_K, W_Q, W_V, h``) or reduced (``w, M`` [, ``r``]) LSA parameters.
    model: the LSA's convention (normalisation, query among keys, residual) and context length.
    spec: a linear-target prompt distribution (any Sigma, any prior, any sigma).

  Returns:
    The population MSE (no factor 1/2), in the parameters' dtype.

  Reference: Mahankali et al. (2023), the pre-training loss; derivation in the module docstring and on the docs page
  "lsa".
  """
  if spec.target != "linear":
    raise ValueError(f"target={spec.target!r} is invalid: expected 'linear' (the exact loss needs Gaussian labels)")
  reduced = params if "M" in params else lsa.reduce(params, model)
  u, m = reduced["w"], reduced["M"]
  dtype = u.dtype
  h_x = reduced["r"][: spec.d] if "r" in reduced else jnp.zeros((spec.d,), dtype)
  spec = jax.tree.map(lambda a: jnp.asarray(a, dtype), spec)
  nodes, weights = cubature5(spec.d)
  w_stars = jnp.asarray(nodes, dtype) @ spec.prior_sqrt   # w* = Psi^1/2 xi (the root is symmetric)
  per_node = jax.vmap(lambda w: _loss_given_task(w, u, m, h_x, spec, model))(w_stars)
  return jnp.sum(jnp.asarray(weights, dtype) * per_node)
