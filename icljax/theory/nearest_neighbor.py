"""Theory of one-layer softmax attention learning 1-NN (Li et al. 2024): the two-parameter system.

Everything here is a function of the inner products ``tau_j = <x_j, x_{N+1}>`` alone (unit inputs), with the
labels (i.i.d., mean 0, variance 1, independent of x) integrated out exactly (derived in the theorem's docs page)::

    L(xi1, xi2) = 1/2 E[ sum_{j<=N} q_j^2 - 2 q_{i*} + 1 ],   q = softmax(xi1 tau_1..xi1 tau_N, xi1 - xi2).

Loss convention: 1/2 times the mean squared error. Full-matrix GD ``W <- W - eta grad_W L`` restricted to the
family is ``xi1 <- xi1 - (eta/d) dL/dxi1``, ``xi2 <- xi2 - eta dL/dxi2`` (Lemma 2).

Reference: Li et al. (2024), Eq. (2.5), Lemma 2 and P1-P11 of the theorem's docs page.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from icljax.models import nearest_neighbor as model


def loss_at_zero(N: int, sigma: float) -> float:
  """P1: ``L(0, sigma) = 1/2 [N/c^2 - 2/c + 1]`` with ``c = N + e^{-sigma}``.

  Args:
    N: context examples.
    sigma: xi2 (the indicator entry is -sigma).

  Returns:
    The loss at ``(0, sigma)``.

  Reference: Li et al. (2024), Eq. (2.5); P1 derived in the theorem's docs page.
  """
  c = N + np.exp(-sigma)
  return 0.5 * (N / c**2 - 2 / c + 1)


def lemma12_sigma_threshold(d: int, N: int) -> float:
  """The initial xi2 above which Lemma 12 claims ``xi1 <= (7/15) xi2`` along GD: ``3 log(2 N^4 d / a_{N,d})``.

  Args:
    d: input dimension (> 3).
    N: context examples.

  Returns:
    The threshold, with ``a_{N,d} = (2 N sqrt(d))^{-2/(d-3)}``; 39.5 at d = N = 4, 47.0 at d = 8, N = 16.

  Reference: Li et al. (2024) Lemma 12 as restated by Athreya & Wang (2026); the theorem's docs page.
  """
  if d <= 3:
    raise ValueError(f"Lemma 12 needs d > 3, got d={d}")
  log_a = -2.0 / (d - 3) * math.log(2 * N * math.sqrt(d))
  return 3.0 * (math.log(2 * N**4 * d) - log_a)


def tau_density_constant(d: int) -> float:
  """``k_d = Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2))``: tau has density ``k_d (1 - t^2)^{(d-3)/2}`` on [-1, 1].

  Args:
    d: input dimension, >= 2.

  Returns:
    ``k_d``.

  Reference: Li et al. (2024) Lemma 17-20 (the follow-up's extra factor 2 does not normalise).
  """
  return math.exp(math.lgamma(d / 2) - math.lgamma((d - 1) / 2)) / math.sqrt(math.pi)


def per_prompt(xi: jax.Array, tau: jax.Array) -> dict[str, jax.Array]:
  """Per-prompt label-integrated loss and attention summaries on the family.

  Args:
    xi: ``(xi1, xi2)``.
    tau: (B, N) inner products; ``i*`` is the argmax of each row.

  Returns:
    ``loss`` (B,), ``q_star`` (B,) = q_{i*}, ``q_self`` (B,) = q_{N+1}, ``sum_q2`` (B,).

  Reference: Li et al. (2024), Eq. (2.5), labels integrated.
  """
  q = model.reduced_attention(xi, tau)
  i_star = jnp.argmax(tau, axis=-1)
  q_ctx = q[:, :-1]
  q_star = jnp.take_along_axis(q_ctx, i_star[:, None], axis=-1)[:, 0]
  sum_q2 = jnp.sum(q_ctx**2, -1)
  return {"loss": 0.5 * (sum_q2 - 2 * q_star + 1), "q_star": q_star, "q_self": q[:, -1], "sum_q2": sum_q2}


def loss(xi: jax.Array, tau: jax.Array) -> jax.Array:
  """Monte-Carlo reduced loss over the rows of ``tau`` (autodiff-able reference for :func:`grads`).

  Args:
    xi: ``(xi1, xi2)``.
    tau: inner products (B, N).

  Returns:
    The mean label-integrated loss.

  Reference: Li et al. (2024), Eq. (2.5) and Lemma 2.
  """
  return jnp.mean(per_prompt(xi, tau)["loss"])


def grads(xi: jax.Array, tau: jax.Array) -> jax.Array:
  """Closed-form ``(dL/dxi1, dL/dxi2)`` on the rows of ``tau`` (derived in the docs page)::

      dL/dxi1 = E[ sum_j q_j^2 (tau_j - tau_bar) - q_{i*} (tau_{i*} - tau_bar) ],
      dL/dxi2 = E[ q_{N+1} (sum_j q_j^2 - q_{i*}) ],   tau_bar = sum_j q_j tau_j + q_{N+1}.

  Args:
    xi: ``(xi1, xi2)``.
    tau: inner products (B, N).

  Returns:
    The gradient, shape (2,).

  Reference: Li et al. (2024), Eq. (2.5) and Lemma 2.
  """
  q = model.reduced_attention(xi, tau)
  i_star = jnp.argmax(tau, axis=-1)
  q_ctx, q_self = q[:, :-1], q[:, -1]
  q_star = jnp.take_along_axis(q_ctx, i_star[:, None], axis=-1)[:, 0]
  tau_star = jnp.take_along_axis(tau, i_star[:, None], axis=-1)[:, 0]
  tau_bar = jnp.sum(q_ctx * tau, -1) + q_self
  sum_q2 = jnp.sum(q_ctx**2, -1)
  g1 = jnp.sum(q_ctx**2 * tau, -1) - sum_q2 * tau_bar - q_star * (tau_star - tau_bar)
  g2 = q_self * (sum_q2 - q_star)
  return jnp.stack([jnp.mean(g1), jnp.mean(g2)])


def prepare_tau(tau: jax.Array, block: int = 1024) -> jax.Array:
  """Rows of ``tau`` (B, N) sorted in decreasing order and laid out as blocks (B/b, N, b): row 0 of every block
  is the nearest neighbour.

  Layout matters on CPU: reductions over the short N axis are ~3x faster than over (B, N) rows, and blocks of
  ~2000 prompts stay in cache (an unblocked B = 20000 step is 8x slower per prompt; benchmarks/nn_step.py). ``b`` is the
  largest divisor of B not above ``block`` (B itself when B <= block).

  Args:
    tau: inner products (B, N).
    block: the largest block size.

  Returns:
    The blocks (B/b, N, b).

  Reference: Li et al. (2024), the reduced loss depends on tau only through its sorted rows (Lemma 2).
  """
  b_total = tau.shape[0]
  b = next(k for k in range(min(block, b_total), 0, -1) if b_total % k == 0)
  if b < 64 <= b_total:
    b = b_total  # no useful divisor: one block
  srt = -jnp.sort(-tau, axis=-1)
  return srt.reshape(b_total // b, b, -1).transpose(0, 2, 1)


def loss_and_grads_blocks(xi: jax.Array, tau_blocks: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Mean loss and closed-form gradient over the blocks of :func:`prepare_tau` (a scan over blocks).

  Args:
    xi: ``(xi1, xi2)``.
    tau_blocks: the output of :func:`prepare_tau`.

  Returns:
    ``(loss, grads)``.

  Reference: Li et al. (2024), Eq. (2.5) and Lemma 2.
  """
  def body(acc, t):
    value, grads = loss_and_grads_sorted(xi, t)
    return (acc[0] + value, acc[1] + grads), None

  (value, grads), _ = jax.lax.scan(body, (jnp.zeros((), tau_blocks.dtype), jnp.zeros((2,), tau_blocks.dtype)),
                                   tau_blocks)
  return value / tau_blocks.shape[0], grads / tau_blocks.shape[0]


@jax.custom_vjp
def reduced_loss(xi: jax.Array, tau_blocks: jax.Array) -> jax.Array:
  """Reduced population loss of ``xi = (xi1, xi2)`` on prepared inner products, with the closed-form gradient.

  The gradient is :func:`loss_and_grads_blocks`'s closed form (a ``custom_vjp``, ~1.5x faster than autodiff and
  equal to it to 1e-9 in float64, ``tests/test_nearest_neighbor.py``); the inner products get no cotangent. Both are
  explicit arguments, so the function vmaps over stacks of runs with different samples.

  Args:
    xi: ``(xi1, xi2)``.
    tau_blocks: the output of :func:`prepare_tau`.

  Returns:
    The scalar loss (labels integrated, 1/2 MSE convention).

  Reference: Li et al. (2024), Eq. (2.5) and Lemma 2.
  """
  return loss_and_grads_blocks(xi, tau_blocks)[0]


def _reduced_fwd(xi, tau_blocks):
  value, grads = loss_and_grads_blocks(xi, tau_blocks)
  return value, (grads, tau_blocks)


def _reduced_bwd(res, g):
  grads, tau_blocks = res
  return g * grads, jnp.zeros_like(tau_blocks)


reduced_loss.defvjp(_reduced_fwd, _reduced_bwd)


def loss_and_grads_sorted(xi: jax.Array, tau_t: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Fast path of :func:`loss` and :func:`grads` on one block ``tau_t`` (N, b) of :func:`prepare_tau`: sorted, so
  no argmax and no gathers.

  The softmax is stabilised with ``max(max_j xi1 tau_j, xi1 - xi2)``, so large ``xi`` (P7 runs reach 30) is safe.

  Args:
    xi: ``(xi1, xi2)``.
    tau_t: one block (N, b), rows sorted in decreasing order.

  Returns:
    ``(mean loss, mean gradient)`` over the block.

  Reference: Li et al. (2024), Eq. (2.5) and Lemma 2.
  """
  xi1, xi2 = xi[0], xi[1]
  s = xi1 * tau_t
  s_self = xi1 - xi2
  m = jnp.maximum(jnp.max(s, axis=0), s_self)
  e = jnp.exp(s - m[None])
  e_self = jnp.exp(s_self - m)
  z = 1.0 / (jnp.sum(e, 0) + e_self)
  q = e * z[None]
  q_self = e_self * z
  q_star = q[0]
  sum_q2 = jnp.sum(q * q, 0)
  tau_bar = jnp.sum(q * tau_t, 0) + q_self
  g1 = jnp.sum(q * q * tau_t, 0) - sum_q2 * tau_bar - q_star * (tau_t[0] - tau_bar)
  g2 = q_self * (sum_q2 - q_star)
  return 0.5 * jnp.mean(sum_q2 - 2 * q_star + 1), jnp.stack([jnp.mean(g1), jnp.mean(g2)])


def loss_with_labels(xi: jax.Array, tau: jax.Array, y: jax.Array) -> jax.Array:
  """Reduced loss with given labels instead of integrated ones: ``1/2 mean (sum_j q_j y_j - y_{i*})^2``.

  On a sample closed under the symmetries of ``tasks.nearest_neighbor.symmetrize`` this equals the full-W loss at
  ``W = diag(xi1 I, 0, -xi2)`` exactly, so full-W GD and reduced GD on the same prompts coincide.

  Args:
    xi: ``(xi1, xi2)``.
    tau: inner products (B, N).
    y: labels (B, N).

  Returns:
    The loss.

  Reference: Li et al. (2024), Eq. (2.5) and Lemma 2.
  """
  q = model.reduced_attention(xi, tau)[:, :-1]
  target = jnp.take_along_axis(y, jnp.argmax(tau, -1)[:, None], axis=-1)[:, 0]
  return 0.5 * jnp.mean((jnp.sum(q * y, -1) - target) ** 2)


def gd_step(xi: jax.Array, tau: jax.Array, eta: float, d: int) -> jax.Array:
  """One step of full-matrix GD restricted to the family: the xi1 step is ``eta/d``.

  Args:
    xi: ``(xi1, xi2)``.
    tau: inner products (B, N).
    eta: the GD step on W.
    d: input dimension.

  Returns:
    The next ``xi``.

  Reference: Li et al. (2024), the GD recursion (Lemma 2).
  """
  return xi - model.family_step(eta, d) * grads(xi, tau)


def reduced_gd(xi: jax.Array, tau_blocks: jax.Array, eta: float, d: int, steps: int) -> jax.Array:
  """``steps`` steps of reduced population GD (the xi1 step ``eta/d``) on prepared inner products, jit-able.

  Args:
    xi: the start ``(xi1, xi2)``.
    tau_blocks: the output of :func:`prepare_tau`.
    eta: the GD step on W.
    d: input dimension.
    steps: number of steps (a Python int or a traced scalar).

  Returns:
    The end point.

  Reference: Li et al. (2024), the GD recursion (Lemma 2), with :func:`loss_and_grads_blocks`' gradient.
  """
  scale = model.family_step(eta, d)
  return jax.lax.fori_loop(0, steps, lambda i, x: x - scale * loss_and_grads_blocks(x, tau_blocks)[1], xi)
