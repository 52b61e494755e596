"""Theory of K-class in-context 1-NN (Athreya & Wang 2026): Lemma 2's scaling identity and its consequences.

With i.i.d. uniform classes and the centred code ``u_c = e_c - 1/K`` (zero mean, squared norm f = (K-1)/K),
integrating the labels gives, per prompt, ``E_c ||l - u_{c_{i*}}||^2 = f (sum_j q_j^2 - 2 q_{i*} + 1)``: the binary
label-integrated loss times f (Lemma 2). So the reduced K-class system is the binary one with its loss times f,
and K-class GD at step eta is binary GD at step f eta, step for step. With plain one-hot codes an extra
``q_{N+1}^2 / (2K)`` appears per prompt and the identity fails. More generally the factor is ``E||u_c||^2`` for any
code with mean zero under the label law (:func:`code_factor`; derived in the theorem's docs page).

Reference: Athreya & Wang (2026), Lemmas 2-3, Theorem 1, Corollary 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from icljax import _pytree
from icljax.models import nearest_neighbor_multiclass as model
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
  """The loss at W_0: ``L_MC(0, sigma) = f/2 [N/c^2 - 2/c + 1]``, ``c = N + e^{-sigma}``.

  Args:
    N: context examples.
    sigma: xi2 at initialisation.
    K: classes.

  Returns:
    The loss at W_0 (0.312500 at N = 16, sigma = 3, K = 3).

  Reference: Athreya & Wang (2026), Lemma 2 with the binary loss at (0, sigma) (derived in the theorem's docs page).
  """
  return factor(K) * binary.loss_at_zero(N, sigma)


def code_moments(K: int, coding: str = "centred", probs: Sequence[float] | None = None) -> tuple[float, float]:
  """The label code's variance ``E||u_c - E u||^2`` and squared mean ``||E u||^2`` under the class law.

  Args:
    K: classes.
    coding: ``'centred'``, ``'onehot'``, ``'recentred'`` or ``'unit'`` (``tasks.nearest_neighbor_multiclass``).
    probs: the class law (None: uniform).

  Returns:
    ``(variance, squared mean)``: with ``s = sum_c p_c^2`` and ``a^2 = K/(K-1)`` for unit codes (else 1), the
    variance is ``a^2 (1 - s)`` and the squared mean ``a^2 (s - 1/K)`` (centred, unit), ``s`` (one-hot) or 0
    (re-centred).

  Reference: Athreya & Wang (2026), eq. (1) and Lemma 3 (the code's moments; derived in the theorem's docs page).
  """
  s = 1.0 / K if probs is None else float(sum(p * p for p in probs))
  a2 = K / (K - 1) if coding == "unit" else 1.0
  mean_sq = {"centred": s - 1.0 / K, "unit": s - 1.0 / K, "onehot": s, "recentred": 0.0}[coding]
  return a2 * (1.0 - s), a2 * mean_sq


def code_factor(K: int, coding: str = "centred", probs: Sequence[float] | None = None) -> float | None:
  """Lemma 2's factor for a coding and class law: ``E||u_c||^2`` when the code has mean zero under the law.

  Args:
    K: classes.
    coding: ``'centred'``, ``'onehot'``, ``'recentred'`` or ``'unit'`` (``tasks.nearest_neighbor_multiclass``).
    probs: the class law (None: uniform).

  Returns:
    ``f = (K-1)/K`` for the paper's centred code and uniform labels, ``1 - sum_c p_c^2`` for ``e_c - p``, 1 for unit
    simplex codes and uniform labels; None where the code's mean is not zero (one-hot codes; centred codes under a
    non-uniform law): no factor makes the K-class loss a multiple of the binary one (:func:`code_loss`).

  Reference: Athreya & Wang (2026), Lemmas 2-3 (the factor E||u_c||^2 of the proof; derived in the theorem's docs
  page).
  """
  if coding == "centred" and probs is None:
    return factor(K)
  variance, mean_sq = code_moments(K, coding, probs)
  return variance if abs(mean_sq) < 1e-12 else None


def code_loss(xi: jax.Array, tau: jax.Array, K: int, coding: str = "centred",
              probs: Sequence[float] | None = None) -> jax.Array:
  """Per prompt, the label-integrated K-class loss on the family for any code and class law::

      1/2 E_c ||l - u_{c_{i*}}||^2 = Var(u) L_bin + ||E u||^2 q_{N+1}^2 / 2,

  Lemma 2 when the mean is zero, ``f L_bin + q_{N+1}^2/(2K)`` for one-hot codes.

  Args:
    xi: ``(xi1, xi2)``.
    tau: (B, N) inner products.
    K: classes.
    coding: the code.
    probs: the class law (None: uniform).

  Returns:
    (B,) losses.

  Reference: Athreya & Wang (2026), eq. (7) and the proof of Lemma 2 with a code of non-zero mean (derived in the
  theorem's docs page).
  """
  variance, mean_sq = code_moments(K, coding, probs)
  per = binary.per_prompt(xi, tau)
  return variance * per["loss"] + mean_sq * per["q_self"] ** 2 / 2


def reduced_loss(xi: jax.Array, tau_blocks: jax.Array, scale: float) -> jax.Array:
  """The reduced K-class population loss: Lemma 2's factor times the binary one (labels integrated).

  Args:
    xi: ``(xi1, xi2)``.
    tau_blocks: ``nearest_neighbor.prepare_tau`` output.
    scale: the factor, :func:`code_factor` (``f = (K-1)/K`` in the paper's setting).

  Returns:
    The scalar loss.

  Reference: Athreya & Wang (2026), Lemma 2.
  """
  return scale * binary.reduced_loss(xi, tau_blocks)


def enumerated_loss(w: jax.Array, prompts: dict[str, jax.Array], K: int, coding: str,
                    probs: Sequence[float] | None = None) -> jax.Array:
  """Per-prompt loss ``1/2 E_c ||l - u_{c_{i*}}||^2`` of the full K-class model with the labels integrated exactly:
  the average over all K^N label configurations, weighted by their probability (independent of Lemma 2; keep K^N
  small).

  Args:
    w: the (d+K+1)^2 matrix.
    prompts: ``x`` (B, N, d), ``x_query`` (B, d), ``i_star`` (B,).
    K: classes.
    coding: ``'centred'``, ``'onehot'``, ``'recentred'`` or ``'unit'``.
    probs: the class law (None: uniform).

  Returns:
    (B,) label-integrated losses.

  Reference: Athreya & Wang (2026), eq. (7), labels integrated by enumeration.
  """
  configs, weights = task.label_configurations(prompts["x"].shape[1], K, probs)
  return _enumerated(w, prompts["x"], prompts["x_query"], prompts["i_star"], configs, weights.astype(np.float32), K,
                     coding, probs)


@_pytree.filter_jit
def _enumerated(w, x, x_query, i_star, configs, weights, K, coding, probs):
  prompts = {"x": x, "x_query": x_query}

  def one(args):
    c, weight = args
    codes = task.code(jnp.broadcast_to(c, x.shape[:2]), K, coding, probs)
    target = jnp.take_along_axis(codes, i_star[:, None, None], axis=1)[:, 0]
    return weight * 0.5 * jnp.sum((model.apply({"W": w}, prompts, codes) - target) ** 2, -1)

  return jnp.sum(jax.lax.map(one, (configs, weights)), axis=0)


def onehot_excess(xi: jax.Array, tau: jax.Array, K: int) -> jax.Array:
  """Per prompt, the one-hot loss minus f times the binary loss, ``q_{N+1}^2 / (2K)`` (uniform labels).

  Args:
    xi: ``(xi1, xi2)``.
    tau: (B, N) inner products.
    K: classes.

  Returns:
    (B,) excesses.

  Reference: Athreya & Wang (2026), eq. (7) with e_c in place of eq. (1)'s code (derived in the theorem's docs
  page).
  """
  q_self = model.reduced_attention(xi, tau)[:, -1]
  return q_self**2 / (2 * K)


def plurality_accuracy(N: int, K: int) -> float:
  """At xi1 = 0 the argmax is the context's plurality class; the probability that it is the 1-NN class, ties
  counted as errors, with i.i.d. uniform classes (exact sum over the counts of the other N-1 labels).

  Args:
    N: context examples.
    K: classes.

  Returns:
    The probability (0.401 at N = 16, K = 3).

  Reference: Athreya & Wang (2026), eq. (6) at W_0 (Assumption 2); derived in the theorem's docs page.
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


def argmax_hits(xi: jax.Array, tau: jax.Array, c: jax.Array, K: int) -> jax.Array:
  """Per prompt, whether the argmax head on the family agrees with the 1-NN class (uniform-coding argmax).

  Args:
    xi: ``(xi1, xi2)``.
    tau: (B, N) inner products.
    c: (B, N) classes.
    K: classes.

  Returns:
    (B,) 1.0 where ``argmax_k l_k = c_{i*}``, else 0.0.

  Reference: Athreya & Wang (2026), eq. (6) and Corollary 1.
  """
  q = model.reduced_attention(xi, tau)[:, :-1]
  logits = jnp.einsum("bn,bnk->bk", q, jax.nn.one_hot(c, K))   # the argmax is the same under the centred coding
  c_star = jnp.take_along_axis(c, jnp.argmax(tau, -1)[:, None], -1)[:, 0]
  return (jnp.argmax(logits, -1) == c_star).astype(jnp.float32)


def argmax_stats(xi: jax.Array, tau: jax.Array, c: jax.Array, K: int) -> tuple[jax.Array, jax.Array]:
  """Argmax agreement with the 1-NN class on prompts with sampled classes (the family's weights from tau).

  Args:
    xi: ``(xi1, xi2)``.
    tau: (B, N) inner products.
    c: (B, N) classes.
    K: classes.

  Returns:
    The agreement rate and its standard error.

  Reference: Athreya & Wang (2026), eq. (6) and Corollary 1.
  """
  hit = argmax_hits(xi, tau, c, K)
  return jnp.mean(hit), jnp.std(hit) / jnp.sqrt(hit.shape[0])


@jax.jit
def gd_points(xi0: jax.Array, tau_blocks: jax.Array, h: jax.Array, d: jax.Array, steps: jax.Array,
              frac: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Reduced binary population GD (the xi1 step ``h/d``) read at the times ``s_i = (steps_i + frac_i) h``, for a
  stack of trajectories (one compiled program; vmapped over the leading axis of every argument).

  K-class GD at step eta is binary GD at step f eta (Lemma 2), so a K-class run at step t sits where the binary
  flow sits at ``s = f eta t``; one binary trajectory read at ``f eta t`` serves every K. A read-off between two
  steps is one Euler step of the fraction ``frac_i h`` from the last whole step.

  Args:
    xi0: (P, 2) starts.
    tau_blocks: (P, ...) ``nearest_neighbor.prepare_tau`` outputs, one per trajectory.
    h: (P,) steps.
    d: (P,) input dimensions (the xi1 step is h/d).
    steps: (P, T) whole steps before each read-off, non-decreasing.
    frac: (P, T) the fractions in [0, 1).

  Returns:
    ``xi`` (P, T, 2) at the read-off times and the binary population loss (P, T) at the whole steps ``steps_i``.

  Reference: Athreya & Wang (2026), Lemma 2 and the GD recursion of Theorem 1 (full-matrix GD: the xi1 step is
  eta/d, as in Lemmas 6, 8 and 9).
  """
  def one(x0, tb, h_, d_, n, fr):
    scale = jnp.stack([h_ / d_, h_])
    segments = jnp.diff(n, prepend=jnp.zeros((1,), n.dtype))

    def seg(x, args):
      length, f = args
      x = jax.lax.fori_loop(0, length, lambda i, y: y - scale * binary.loss_and_grads_blocks(y, tb)[1], x)
      value, g = binary.loss_and_grads_blocks(x, tb)
      return x, (x - f * scale * g, value)

    return jax.lax.scan(seg, x0, (segments, fr))[1]

  return jax.vmap(one)(xi0, tau_blocks, h, d, steps, frac)
