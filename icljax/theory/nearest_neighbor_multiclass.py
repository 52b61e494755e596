"""Theory of K-class in-context 1-NN (Athreya & Wang 2026): Lemma 2's scaling identity and its consequences.

With i.i.d. uniform classes and the centred code ``u_c = e_c - 1/K`` (zero mean, squared norm f = (K-1)/K),
integrating the labels gives, per prompt, ``E_c ||l - u_{c_{i*}}||^2 = f (sum_j q_j^2 - 2 q_{i*} + 1)``: the binary
label-integrated loss times f (Lemma 2). So the reduced K-class system is the binary one with its loss times f,
and K-class GD at step eta is binary GD at step f eta, step for step (P7). With plain one-hot codes an extra
``q_{N+1}^2 / (2K)`` appears per prompt (P4) and the identity fails.

Reference: Athreya & Wang (2026), Lemmas 2-3, Theorem 1 (athreya digest sections 3-5, P2-P4, P7, P10).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from icljax.models import softmax_attention_multiclass as model
from icljax.tasks import nearest_neighbor_multiclass as task
from icljax.theory import nearest_neighbor as binary


def factor(K: int) -> float:
  """``f = (K-1)/K``: the squared norm of a centred code, the factor of Lemma 2.

  Args:
    K: classes.

  Returns:
    f.

  Reference: Athreya & Wang (2026), Lemma 3.
  """
  return (K - 1) / K


def loss_at_zero(N: int, sigma: float, K: int) -> float:
  """P2: ``L_MC(0, sigma) = f/2 [N/c^2 - 2/c + 1]``, ``c = N + e^{-sigma}``.

  Args:
    N: context examples.
    sigma: xi2 at initialisation.
    K: classes.

  Returns:
    The loss at W_0 (0.312500 at N = 16, sigma = 3, K = 3).

  Reference: Athreya & Wang (2026), Lemma 2 with Li et al. P1 (athreya digest P2).
  """
  return factor(K) * binary.loss_at_zero(N, sigma)


def reduced_loss(xi: jax.Array, tau_blocks: jax.Array, K: int) -> jax.Array:
  """The reduced K-class population loss: f times the binary one (labels integrated, Lemma 2).

  Args:
    xi: ``(xi1, xi2)``.
    tau_blocks: ``nearest_neighbor.prepare_tau`` output.
    K: classes.

  Returns:
    The scalar loss.

  Reference: Athreya & Wang (2026), Lemma 2.
  """
  return factor(K) * binary.reduced_loss(xi, tau_blocks)


def enumerated_loss(w: jax.Array, prompts: dict[str, jax.Array], K: int, coding: str) -> jax.Array:
  """Per-prompt loss ``1/2 E_c ||l - u_{c_{i*}}||^2`` of the full K-class model with the labels integrated exactly:
  the average over all K^N label configurations (independent of Lemma 2; keep K^N small).

  Args:
    w: the (d+K+1)^2 matrix.
    prompts: ``x`` (B, N, d), ``x_query`` (B, d), ``i_star`` (B,).
    K: classes.
    coding: ``'centred'`` or ``'onehot'``.

  Returns:
    (B,) label-integrated losses.

  Reference: Athreya & Wang (2026), eq. (7); digest P3(a)/P4 (exact enumeration).
  """
  configs = jnp.asarray(task.label_configurations(prompts["x"].shape[1], K))

  def one(c):
    codes = task.code(jnp.broadcast_to(c, prompts["x"].shape[:2]), K, coding)
    target = jnp.take_along_axis(codes, prompts["i_star"][:, None, None], axis=1)[:, 0]
    return 0.5 * jnp.sum((model.apply({"W": w}, prompts, codes) - target) ** 2, -1)

  return jnp.mean(jax.lax.map(one, configs), axis=0)


def onehot_excess(xi: jax.Array, tau: jax.Array, K: int) -> jax.Array:
  """P4: per prompt, the one-hot loss minus f times the binary loss, ``q_{N+1}^2 / (2K)``.

  Args:
    xi: ``(xi1, xi2)``.
    tau: (B, N) inner products.
    K: classes.

  Returns:
    (B,) excesses.

  Reference: athreya digest P4 (derived and checked by enumeration there).
  """
  q_self = model.reduced_attention(xi, tau)[:, -1]
  return q_self**2 / (2 * K)


def plurality_accuracy(N: int, K: int) -> float:
  """P10: at xi1 = 0 the argmax is the context's plurality class; the probability that it is the 1-NN class, ties
  counted as errors, with i.i.d. uniform classes (exact sum over the counts of the other N-1 labels).

  Args:
    N: context examples.
    K: classes.

  Returns:
    The probability (0.401 at N = 16, K = 3).

  Reference: athreya digest P10.
  """
  total = 0.0
  for counts in _compositions(N - 1, K):
    if all(counts[0] + 1 > c for c in counts[1:]):
      total += math.factorial(N - 1) // math.prod(math.factorial(c) for c in counts) / K ** (N - 1)
  return total


def _compositions(n: int, k: int):
  if k == 1:
    yield (n,)
    return
  for first in range(n + 1):
    for rest in _compositions(n - first, k - 1):
      yield (first, *rest)


def argmax_stats(xi: jax.Array, tau: jax.Array, c: jax.Array, K: int) -> tuple[jax.Array, jax.Array]:
  """Argmax agreement with the 1-NN class on prompts with sampled classes (the family's weights from tau).

  Args:
    xi: ``(xi1, xi2)``.
    tau: (B, N) inner products.
    c: (B, N) classes.
    K: classes.

  Returns:
    The agreement rate and its standard error.

  Reference: Athreya & Wang (2026), eq. (6) and Corollary 1 (digest P11).
  """
  q = model.reduced_attention(xi, tau)[:, :-1]
  logits = jnp.einsum("bn,bnk->bk", q, jax.nn.one_hot(c, K))   # the argmax is the same under either coding
  c_star = jnp.take_along_axis(c, jnp.argmax(tau, -1)[:, None], -1)[:, 0]
  hit = (jnp.argmax(logits, -1) == c_star).astype(jnp.float32)
  return jnp.mean(hit), jnp.std(hit) / jnp.sqrt(hit.shape[0])
