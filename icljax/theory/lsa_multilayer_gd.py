"""Theory of L-layer linear transformers as L steps of preconditioned GD (Ahn et al. 2023, Lemma 1 and Theorem 3).

With the inverse-covariance prior (x ~ N(0, Sigma), w* ~ N(0, Sigma^-1)) whitening maps the problem to Sigma = I,
and on the sparse class ``A_l = a_l Sigma^-1`` the loss of L steps ``w <- w - a_l Sigma^-1 grad R(w)`` from w = 0 is

    f(a) = E tr prod_l (I - a_l S)^2,    S = Z^T Z / n,  Z (n x d) i.i.d. N(0, 1)      (noiseless; MSE, no 1/2)

a polynomial in ``a`` whose coefficients are the Wishart trace moments ``E tr S^k``, k <= 2L. Those are computed
exactly by Wick's theorem: ``E tr W^k`` (W = Z^T Z) is the sum over the perfect matchings of the 2k Gaussian
factors of ``d^{row classes} n^{column classes}`` (10395 matchings at k = 6). The best L-step PGD minimises f.

Reference: Ahn, Cheng, Daneshmand, Sra (2023), arXiv 2306.00297, Lemma 1 and Theorem 3; the reduction to f(a) and
the moments are derived on the docs page "lsa_multilayer", section "What is checked and why".
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np


def _matchings(items: tuple[int, ...]):
  if not items:
    yield []
    return
  first, rest = items[0], items[1:]
  for i, other in enumerate(rest):
    for m in _matchings(rest[:i] + rest[i + 1:]):
      yield [(first, other), *m]


def _classes(pairs, k: int) -> int:
  parent = list(range(k))

  def find(a):
    while parent[a] != a:
      parent[a] = parent[parent[a]]
      a = parent[a]
    return a

  for a, b in pairs:
    parent[find(a)] = find(b)
  return len({find(a) for a in range(k)})


@functools.cache
def wishart_trace_counts(k: int) -> tuple[tuple[int, int, int], ...]:
  """``E tr W^k = sum c d^r n^s`` as ``(c, r, s)`` terms, by Wick's theorem over the 2k factors of tr W^k.

  Args:
    k: the power, 1..8 (k = 7 enumerates 135135 matchings one by one; k = 8's 2027025 are enumerated as arrays by
      :func:`_trace_counts_arrays`, ~10 s).

  Returns:
    The terms ``(count, row classes, column classes)``.

  Reference: Wick's theorem for Gaussian products (standard; derivation in this module's docstring).
  """
  if not 1 <= k <= 8:
    raise ValueError(f"k={k}: exact Wishart trace moments are enumerated for 1 <= k <= 8")
  if k == 8:
    return _trace_counts_arrays(k)
  # Factor 2t = Z_{m_t, i_t}, factor 2t+1 = Z_{m_t, i_{t+1}}: tr (Z^T Z)^k = sum prod_t Z_{m_t i_t} Z_{m_t i_{t+1}}.
  rows = [t if f % 2 == 0 else (t + 1) % k for t in range(k) for f in (0, 1)]
  cols = [t for t in range(k) for _ in (0, 1)]
  counts: dict[tuple[int, int], int] = {}
  for m in _matchings(tuple(range(2 * k))):
    key = (_classes([(rows[a], rows[b]) for a, b in m], k), _classes([(cols[a], cols[b]) for a, b in m], k))
    counts[key] = counts.get(key, 0) + 1
  return tuple((c, r, s) for (r, s), c in sorted(counts.items()))


def _matching_array(m: int) -> np.ndarray:
  """Every perfect matching of ``m`` (even) items as a partner array (matchings, m): row r pairs i with p[r, i]."""
  partner = np.full((1, m), -1, np.int8)
  for _ in range(m // 2):
    count, free = partner.shape[0], int(np.sum(partner[0] < 0))
    idx = np.nonzero(partner < 0)[1].reshape(count, free)          # each row's unpaired items, ascending
    first, other = np.repeat(idx[:, 0], free - 1), idx[:, 1:].reshape(-1)
    partner = np.repeat(partner, free - 1, axis=0)
    rows = np.arange(partner.shape[0])
    partner[rows, first], partner[rows, other] = other, first
  return partner


def _component_counts(u: np.ndarray, v: np.ndarray, k: int) -> np.ndarray:
  """Connected components of graphs on k nodes, one graph per row of the edge lists ``u``, ``v`` (rows, edges)."""
  label = np.broadcast_to(np.arange(k, dtype=np.int8), (u.shape[0], k)).copy()
  rows = np.arange(u.shape[0])
  for e in range(u.shape[1]):                       # merge the two ends' components under the smaller label
    lu, lv = label[rows, u[:, e]][:, None], label[rows, v[:, e]][:, None]
    label = np.where((label == lu) | (label == lv), np.minimum(lu, lv), label)
  return np.sum(label == np.arange(k, dtype=np.int8), axis=1)   # a component's label is its smallest node


def _trace_counts_arrays(k: int) -> tuple[tuple[int, int, int], ...]:
  """:func:`wishart_trace_counts` with the matchings and their classes as arrays (the same terms; tested)."""
  partner = _matching_array(2 * k)
  first = np.nonzero(partner > np.arange(2 * k))[1].reshape(partner.shape[0], k)
  second = np.take_along_axis(partner, first, 1).astype(np.int64)
  rows = np.array([t if f % 2 == 0 else (t + 1) % k for t in range(k) for f in (0, 1)])
  cols = np.repeat(np.arange(k), 2)
  r = _component_counts(rows[first], rows[second], k)
  s = _component_counts(cols[first], cols[second], k)
  keys, counts = np.unique(r.astype(np.int64) * (k + 1) + s, return_counts=True)
  return tuple((int(c), int(key // (k + 1)), int(key % (k + 1))) for key, c in zip(keys, counts))


def trace_moments(d: int, n: int, k_max: int) -> np.ndarray:
  """``E tr S^k`` for k = 0..k_max, ``S = Z^T Z / n`` with Z (n x d) i.i.d. N(0, 1), exact (float64).

  Args:
    d: dimension.
    n: examples.
    k_max: the highest power (<= 8).

  Returns:
    (k_max + 1,) moments; ``[d, d, d(n+d+1)/n, ...]`` (5, 13/2, 201/20, 349/20 at d = 5, n = 20).

  Reference: Wick's theorem (this module's docstring); the values at d = 5, n = 20 are those of an independent
  NumPy computation (the theorem's docs page).
  """
  out = [float(d)]
  for k in range(1, k_max + 1):
    out.append(sum(c * float(d) ** r * float(n) ** s for c, r, s in wishart_trace_counts(k)) / float(n) ** k)
  return np.array(out)


def pgd_loss(a: jax.Array, moments: jax.Array) -> jax.Array:
  """``f(a) = E tr prod_l (I - a_l S)^2``: the loss of L whitened PGD steps of sizes ``a`` (order-free).

  Args:
    a: (L,) step sizes.
    moments: ``trace_moments(d, n, 2L)``.

  Returns:
    The loss (MSE of the prediction, no 1/2; the label variance is d at a = 0).

  Reference: Ahn et al. (2023) Theorem 3, reduced to the scalar steps (whitening; derived on the docs page
  "lsa_multilayer", section "What is checked and why").
  """
  poly = jnp.ones((1,), moments.dtype)
  for step in a:
    poly = jnp.convolve(poly, jnp.stack([jnp.ones_like(step), -2 * step, step**2]))
  return jnp.dot(poly, moments[: poly.shape[0]])


def optimal_steps(L: int, d: int, n: int) -> tuple[np.ndarray, float, float, float]:
  """The best L-step PGD: step sizes (sorted), its loss, and the best constant step with its loss.

  Damped Newton in float64 from a grid of starting points; f is a polynomial of degree 2L in L variables.

  Args:
    L: layers (1..4).
    d: dimension.
    n: examples.

  Returns:
    ``(a_star sorted, f(a_star), a_constant, f(a_constant))``; at d = 5, n = 20: L = 2 gives (0.515371,
    1.249572), 0.361240; L = 3 (0.42241, 0.68913, 1.71422), 0.133608; L = 4 (0.36206, 0.52050, 0.88898, 2.13885),
    0.054953 (independent NumPy sample averages: (0.423, 0.690, 1.716), 0.1339 and (0.361, 0.520, 0.888, 2.137),
    0.0551).

  Reference: Ahn et al. (2023) Theorem 3.
  """
  with jax.enable_x64(True):
    m = jnp.asarray(trace_moments(d, n, 2 * L))
    f = lambda a: pgd_loss(a, m)
    newton = lambda a: damped_newton(f, a, 100)
    starts = jnp.asarray(list(itertools.combinations_with_replacement((0.3, 0.6, 1.0, 1.6, 2.5), L)))
    ends = jax.jit(jax.vmap(newton))(starts + 1e-3 * jnp.arange(L)[None, :])
    values = jax.vmap(f)(ends)
    stationary = jnp.all(jnp.isfinite(ends), 1) & (jnp.max(jnp.abs(jax.vmap(jax.grad(f))(ends)), 1) < 1e-10)
    best = ends[int(jnp.argmin(jnp.where(stationary, values, jnp.inf)))]
    g = jax.grad(lambda c: f(jnp.full((L,), c)))
    const = jax.jit(lambda c: jax.lax.fori_loop(0, 100, lambda _, x: x - g(x) / jax.grad(g)(x), c))(jnp.asarray(0.7))
    return (np.sort(np.asarray(best)), float(f(best)), float(const), float(f(jnp.full((L,), const))))


def damped_newton(f: Callable[[jax.Array], jax.Array], x: jax.Array, iterations: int) -> jax.Array:
  """Levenberg-damped Newton steps on a smooth function of a few variables; a step is kept if f does not increase.

  Args:
    f: the function (jax-differentiable, scalar).
    x: the starting point.
    iterations: steps (each solves one small linear system with the exact Hessian).

  Returns:
    The end point (a local minimum when converged).

  Reference: Levenberg's damping of Newton's method (standard); used for the optima of Theorems 3 and 4.
  """
  grad, hess = jax.grad(f), jax.hessian(f)

  def body(_, state):
    x, mu, fx = state
    new = x - jnp.linalg.solve(hess(x) + mu * jnp.eye(x.shape[0]), grad(x))
    f_new = f(new)
    ok = jnp.isfinite(f_new) & (f_new <= fx)
    return jnp.where(ok, new, x), jnp.where(ok, mu * 0.3, mu * 10.0), jnp.where(ok, f_new, fx)

  return jax.lax.fori_loop(0, iterations, body, (x, jnp.asarray(1e-2, x.dtype), f(x)))[0]


def pgd_predict(a: jax.Array, prompts: dict[str, jax.Array]) -> jax.Array:
  """Lemma 1's GD side: ``<w_L, x_q>`` after ``w <- w - A_l^T grad R(w)`` from w = 0, ``R = |X w - y|^2 / (2n)``.

  Args:
    a: (L, d, d) preconditioners in the model's layout (the model's layer l preconditions with ``A_l^T``).
    prompts: ``x (B, n, d)``, ``y (B, n)``, ``x_query (B, d)``.

  Returns:
    (B,) predictions.

  Reference: Ahn et al. (2023) Lemma 1 (in this package's layout the preconditioner is ``A_l^T``; derived on the
  docs page "lsa_multilayer", section "What is checked and why").
  """
  x, y = prompts["x"], prompts["y"]
  w = jnp.zeros(x.shape[::2])
  for a_l in a:
    grad = jnp.einsum("bnd,bn->bd", x, jnp.einsum("bnd,bd->bn", x, w) - y) / x.shape[1]
    w = w - jnp.einsum("ed,be->bd", a_l, grad)
  return jnp.einsum("bd,bd->b", w, prompts["x_query"])

