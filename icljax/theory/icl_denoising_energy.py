"""The one-layer denoisers as one gradient step on an energy (Smart, Bietti & Sengupta 2025, Section 4 and App. I):
the dense-associative-memory energy of softmax attention, gradient descent on it, and the quadratic energy of linear
attention.

Reference: Smart, Bietti & Sengupta (2025), arXiv 2502.05164, Section 4, eqs. (16)-(17), App. I.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def energy(s: jax.Array, tokens: jax.Array, alpha: float, beta: float) -> jax.Array:
  """The dense-associative-memory energy ``||s||^2/(2 alpha) - (1/beta) log sum_t exp(beta X_t^T s)``.

  Args:
    s: state (n,).
    tokens: context tokens (L, n).
    alpha: value scale.
    beta: inverse temperature.

  Returns:
    The energy (scalar).

  Reference: Smart, Bietti & Sengupta (2025), Section 4, eq. (16).
  """
  return jnp.sum(s * s) / (2 * alpha) - jax.nn.logsumexp(beta * tokens @ s) / beta


def energy_descent(query: jax.Array, context: jax.Array, alpha: float, beta: float | jax.Array, iterations: int = 1,
                   step: float | None = None) -> jax.Array:
  """Gradient descent on :func:`energy` from ``s(0) = query``: ``s(t+1) = s(t) - step grad E(s(t))``; one step of
  size ``alpha`` is the softmax layer at ``(alpha I, beta I)``.

  Args:
    query: corrupted queries (B, n).
    context: clean tokens (B, L, n).
    alpha: value scale.
    beta: inverse temperature (a number, or a traced scalar).
    iterations: number of steps.
    step: step size (default alpha).

  Returns:
    ``s(iterations)``, (B, n).

  Reference: Smart, Bietti & Sengupta (2025), Section 4, eq. (17).
  """
  lr = alpha if step is None else step
  grad = jax.vmap(jax.grad(energy), in_axes=(0, 0, None, None))
  return jax.lax.fori_loop(0, iterations, lambda _, s: s - lr * grad(s, context, alpha, beta), query)


def linear_energy(s: jax.Array, tokens: jax.Array, gamma: float) -> jax.Array:
  """The "naive spherical Hopfield" energy of linear attention, ``||s||^2/(2 gamma) - (1/2L) s^T (sum_t X_t X_t^T) s``;
  one gradient step of size gamma from the query is linear attention at ``W_PV W_KQ = gamma I``.

  Args:
    s: state (n,).
    tokens: context tokens (L, n).
    gamma: alpha beta.

  Returns:
    The energy (scalar).

  Reference: Smart, Bietti & Sengupta (2025), App. I, eqs. (A.14)-(A.17).
  """
  return jnp.sum(s * s) / (2 * gamma) - jnp.sum((tokens @ s) ** 2) / (2 * tokens.shape[0])
