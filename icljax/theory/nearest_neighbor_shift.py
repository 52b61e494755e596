"""Theory of 1-NN under distribution shift (Li et al. 2024): the Appendix-B MSE at initialisation, the pointwise
recovery bound and the 1-NN rule itself.

Reference: Li et al. (2024), Assumption 3, Appendix B and Theorem 2 (P9 and P11 of the theorem's docs page).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def shift_mse_at_zero(N: int, sigma: float) -> float:
  """P9: MSE on the Appendix-B test set at ``xi1 = 0``: ``(N-1)/c^2 + (1 - 1/c)^2`` (N(0,1) labels).

  Args:
    N: context examples.
    sigma: xi2.

  Returns:
    The MSE against the 1-NN label.

  Reference: Li et al. (2024), Appendix B; P9 derived in the theorem's docs page.
  """
  c = N + np.exp(-sigma)
  return (N - 1) / c**2 + (1 - 1 / c) ** 2


def one_nn_predict(prompts: dict[str, jax.Array]) -> jax.Array:
  """The 1-NN rule: the label of the context point with the largest inner product with the query.

  Args:
    prompts: ``x (B, N, d)``, ``y (B, N)``, ``x_query (B, d)``.

  Returns:
    The 1-NN labels (B,).

  Reference: Li et al. (2024), the target (Eq. 2.5).
  """
  tau = jnp.einsum("bnd,bd->bn", prompts["x"], prompts["x_query"])
  return jnp.take_along_axis(prompts["y"], jnp.argmax(tau, -1)[:, None], axis=-1)[:, 0]


def recovery_bound(xi: jax.Array, tau: jax.Array, R: float | jax.Array) -> jax.Array:
  """P11 pointwise bound ``|y_hat - y_{i*}| <= 2R(N-1) e^{-xi1 Delta} + R e^{xi1 (1 - tau_{i*}) - xi2}`` (B,),
  with ``Delta`` the gap between the two largest inner products (requires N >= 2).

  Args:
    xi: ``(xi1, xi2)``.
    tau: inner products (B, N).
    R: label bound (a number or a traced scalar).

  Returns:
    The bound per prompt.

  Reference: Li et al. (2024), Theorem 2's pointwise step (P11, derived in the theorem's docs page).
  """
  top2 = jax.lax.top_k(tau, 2)[0]
  gap = top2[:, 0] - top2[:, 1]
  n = tau.shape[-1]
  return 2 * R * (n - 1) * jnp.exp(-xi[0] * gap) + R * jnp.exp(xi[0] * (1 - top2[:, 0]) - xi[1])
