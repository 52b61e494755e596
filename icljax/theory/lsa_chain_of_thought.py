"""Theory of one-layer linear attention with and without chain of thought (Huang, Wang, Lee 2025, sections 3-4).

Weight prediction: x ~ N(0, I_d), w* ~ N(0, I_d), y = X w* (noiseless), no query. The chain-of-thought targets are
GD on ``R(w) = |X w - y|^2 / (2n)`` from ``w_0 = 0`` with a fixed step eta:

    w_{i+1} = w_i - eta (S w_i - g),   S = X^T X / n,  g = X^T y / n = S w*

so ``w_k - w* = (I - eta S)^k (w_0 - w*)`` and, with ``w*`` independent of S,

    E |w_k - w*|^2 = E tr (I - eta S)^{2k} = sum_j C(2k, j) (-eta)^j E tr S^j

(derived in the docs page "lsa_chain_of_thought", section "What is checked and why"), exact from the Wishart trace
moments for k <= 3 (moments to order 6, Wick's theorem in ``lsa_multilayer_gd``), and for any k and any covariance of x
by a NumPy Monte Carlo over the eigenvalues of S alone (:func:`wishart_eigenvalues`, :func:`gd_error_monte_carlo`):
the reference of the iterate errors in and out of distribution (Theorem 4.2), independent of the GD code that makes
the training targets.

The construction ``V_31 = -eta I``, ``W_13 = I``, ``W_24 = -1`` makes the model's step exactly this GD step
(Theorem 3.2); it is the unique zero of the teacher-forced CoT loss in the sparse class (V_31 g = -eta g for all
g at step 0, then S W_13 w_i = S w_i). Without chain of thought the model outputs ``w_hat = -V_31 g`` (w_0 = 0);
``E[g g^T] = E S^2 = ((n + d + 1)/n) I`` and ``E[g w*^T] = E S = I``, so the best is ``-V_31 = n/(n + d + 1) I``
with ``E |w_hat - w*|^2 = d (d + 1)/(n + d + 1)`` (Theorem 3.1): one GD step at eta = n/(n + d + 1).

Reference: Huang, Wang, Lee (2025), arXiv 2502.21212, section 3 (the embedding and the CoT targets), Theorems 3.1,
3.2 and 4.2; derivations in the docs page "lsa_chain_of_thought", section "What is checked and why".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from icljax.theory import lsa_multilayer_gd

EXACT_MAX_STEPS = 3   # E tr S^j is enumerated up to j = 7 (lsa_multilayer_gd.trace_moments): k <= 3 needs j <= 6


def gd_iterates(prompts: dict[str, jax.Array], eta: float, k: int) -> jax.Array:
  """The chain-of-thought targets: GD iterates ``w_0 = 0, w_1, .., w_k`` on each prompt's least-squares risk.

  Args:
    prompts: ``x (B, n, d)``, ``y (B, n)``.
    eta: the GD step.
    k: the number of steps.

  Returns:
    (B, k + 1, d).

  Reference: Huang et al. (2025), section 3, the CoT targets (GD with a fixed step from w_0 = 0).
  """
  x, y = prompts["x"], prompts["y"]
  n = x.shape[1]
  s, g = jnp.einsum("bni,bnj->bij", x, x) / n, jnp.einsum("bni,bn->bi", x, y) / n

  def step(w, _):
    w = w - eta * (jnp.einsum("bij,bj->bi", s, w) - g)
    return w, w

  w0 = jnp.zeros_like(g)
  _, ws = jax.lax.scan(step, w0, None, length=k)
  return jnp.concatenate([w0[:, None], jnp.swapaxes(ws, 0, 1)], axis=1)


def gd_error(d: int, n: int, eta: float, k: int) -> float:
  """``E |w_k - w*|^2`` for GD with step eta from 0 (x ~ N(0, I), w* ~ N(0, I)), exact for k <= 3.

  Args:
    d: dimension.
    n: examples.
    eta: step.
    k: steps, 0..3.

  Returns:
    The expectation; d at k = 0; ``d - 2 eta d + eta^2 d (n + d + 1)/n`` at k = 1 (1.625 and 0.81562 at k = 1, 2
    for d = 5, n = 20, eta = 0.5).

  Reference: Huang et al. (2025), section 3's GD targets; the identity is derived in the docs page
  "lsa_chain_of_thought", section "What is checked and why".
  """
  if not 0 <= k <= EXACT_MAX_STEPS:
    raise ValueError(f"k={k}: exact GD-iterate errors need E tr S^j for j <= 2k <= 7, so 0 <= k <= 3")
  with jax.enable_x64(True):
    moments = jnp.asarray(lsa_multilayer_gd.trace_moments(d, n, max(2 * k, 1)))
    return float(lsa_multilayer_gd.pgd_loss(jnp.full((k,), eta, jnp.float64), moments))


def no_cot_step(d: int, n: int) -> float:
  """The optimal one-step map without chain of thought: ``-V_31 = n/(n + d + 1) I`` (a step of that size).

  Args:
    d: dimension.
    n: examples.

  Returns:
    n/(n + d + 1).

  Reference: Huang et al. (2025) Theorem 3.1.
  """
  return n / (n + d + 1)


def no_cot_error(d: int, n: int) -> float:
  """``E |w_hat - w*|^2`` of the best model without chain of thought.

  Args:
    d: dimension.
    n: examples.

  Returns:
    ``d (d + 1)/(n + d + 1)``.

  Reference: Huang et al. (2025) Theorem 3.1 (1.153846 at d = 5, n = 20; 3.548387 at (10, 20); 0.521327 at
  (10, 200)).
  """
  return d * (d + 1) / (n + d + 1)


def construction(d: int, eta: float) -> tuple[np.ndarray, np.ndarray]:
  """Theorem 3.2's weights: ``V_31 = -eta I``, ``W_13 = I``, ``W_24 = -1``, all else 0.

  Args:
    d: dimension.
    eta: the GD step.

  Returns:
    ``(V, W)``, each (2d + 2) x (2d + 2), float64.

  Reference: Huang et al. (2025) Theorem 3.2's minimiser.
  """
  width = 2 * d + 2
  v, w = np.zeros((width, width)), np.zeros((width, width))
  v[d + 1:2 * d + 1, :d] = -eta * np.eye(d)
  w[:d, d + 1:2 * d + 1] = np.eye(d)
  w[d, 2 * d + 1] = -1.0
  return v, w


def dense_products(v: np.ndarray, w: np.ndarray, d: int) -> dict[str, np.ndarray]:
  """The identifiable blocks of a dense model: ``V_31 W_13`` (theory ``-eta I``) and ``V_31 W_24`` (W_24 the scalar
  of the y-slot row and indicator column; theory ``eta I``); the output is invariant under
  ``(V_31, W_13, W_24) -> (V_31/c, c W_13, c W_24)``.

  Args:
    v: (D x D) value weights.
    w: (D x D) key-query weights.
    d: dimension.

  Returns:
    ``{'V31W13': (d, d), 'V31W24': (d, d)}``.

  Reference: Huang et al. (2025) Theorem 3.2 and its weight heat-map.
  """
  v31 = v[d + 1:2 * d + 1, :d]
  return {"V31W13": v31 @ w[:d, d + 1:2 * d + 1], "V31W24": v31 * w[d, 2 * d + 1]}


def off_block_norms(v: np.ndarray, w: np.ndarray, d: int) -> dict[str, float]:
  """How much of a dense model lies outside the construction's blocks: ``|V - V_31 block| / |V_31|`` and
  ``|W - (W_13, W_24) blocks| / |W_13|`` (Frobenius).

  Args:
    v: (D x D) value weights.
    w: (D x D) key-query weights.
    d: dimension.

  Returns:
    ``{'V_off_rel', 'W_off_rel'}``.

  Reference: the sparsity pattern of Huang et al. (2025), Theorem 3.2 (Lemma C.2: it is preserved by gradient flow).
  """
  vm, wm = np.array(v, dtype=float), np.array(w, dtype=float)
  v31, w13 = vm[d + 1:2 * d + 1, :d].copy(), wm[:d, d + 1:2 * d + 1].copy()
  vm[d + 1:2 * d + 1, :d] = 0.0
  wm[:d, d + 1:2 * d + 1] = 0.0
  wm[d, 2 * d + 1] = 0.0
  return {"V_off_rel": float(np.linalg.norm(vm) / np.linalg.norm(v31)),
          "W_off_rel": float(np.linalg.norm(wm) / np.linalg.norm(w13))}


def wishart_eigenvalues(d: int, n: int, draws: int, seed: int | Sequence[int],
                        spectrum: Sequence[float] | np.ndarray | None = None, chunk: int = 20_000) -> np.ndarray:
  """Eigenvalues of ``S = X^T X / n`` for x ~ N(0, Sigma), drawn in NumPy (float64, its own generator).

  ``tr f(S)`` depends on Sigma's eigenvalues only (``X U`` has the law of ``X`` for orthogonal U), so Sigma is taken
  diagonal: ``X = Z diag(spectrum)^{1/2}`` with Z i.i.d. N(0, 1).

  Args:
    d: dimension.
    n: examples per prompt.
    draws: number of independent S.
    seed: NumPy seed (the draws are a pure function of it).
    spectrum: Sigma's eigenvalues (d positive numbers), or None for the identity.
    chunk: draws per block (memory).

  Returns:
    (draws, d) eigenvalues, ascending per draw.

  Reference: Huang et al. (2025) section 3 (x ~ N(0, I)) and Theorem 4.2 (x ~ N(0, Sigma)).
  """
  rng = np.random.default_rng(seed)
  root = np.sqrt(np.ones(d) if spectrum is None else np.asarray(spectrum, dtype=np.float64))
  out = []
  for start in range(0, draws, chunk):
    z = rng.standard_normal((min(chunk, draws - start), n, d)) * root
    out.append(np.linalg.eigvalsh(np.einsum("kni,knj->kij", z, z) / n))
  return np.concatenate(out)


def gd_error_monte_carlo(eigenvalues: np.ndarray, eta: float,
                         ks: Iterable[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """``E |w_k - w*|^2 = E tr (I - eta S)^{2k}`` (w* ~ N(0, I), w_0 = 0) from draws of S's eigenvalues, any k.

  Averaging over w* given S exactly (``E_w* |(I - eta S)^k w*|^2 = tr (I - eta S)^{2k}``) leaves only the
  eigenvalues' noise. A draw with ``eta lambda_max >= 2`` is unstable: its term grows with k, so the mean becomes
  heavy-tailed and its standard error unreliable; the share of the mean carried by such draws is returned so that a
  caller can keep only rows where the error bar means something.

  Args:
    eigenvalues: (draws, d) from :func:`wishart_eigenvalues`.
    eta: the GD step.
    ks: the steps k.

  Returns:
    ``(mean, standard error, unstable share)``, each (len(ks),).

  Reference: Huang et al. (2025) section 3's GD targets and Theorem 4.2; the identity is derived in the docs page
  "lsa_chain_of_thought", section "What is checked and why" (entry iterate_errors).
  """
  factor = 1.0 - eta * np.asarray(eigenvalues, dtype=np.float64)
  values = np.stack([np.sum(factor ** (2 * k), axis=1) for k in ks], axis=1)
  unstable = np.max(np.abs(factor), axis=1) > 1.0
  return (values.mean(0), values.std(0, ddof=1) / np.sqrt(len(values)),
          values[unstable].sum(0) / values.sum(0))


def gd_growth_monte_carlo(eigenvalues: np.ndarray, eta: float, k: int,
                          seed: int | Sequence[int]) -> tuple[float, float]:
  """``P(|w_k - w*|^2 > |w*|^2)``: the chance that k GD steps from w_0 = 0 end further from w* than they started.

  In S's eigenbasis w* has coordinates ``u ~ N(0, I)`` independent of the eigenvalues (w* ~ N(0, I) is independent
  of X), so ``|w_k - w*|^2 = sum_j (1 - eta lambda_j)^{2k} u_j^2`` and ``|w*|^2 = sum_j u_j^2``.

  Args:
    eigenvalues: (draws, d) from :func:`wishart_eigenvalues`.
    eta: the GD step.
    k: steps.
    seed: NumPy seed of u.

  Returns:
    ``(fraction, binomial standard error)``.

  Reference: Huang et al. (2025) Theorem 4.2 (its bounded-spectrum condition: GD with step eta diverges on prompts
  with ``eta lambda_max(S) > 2``).
  """
  lam = np.asarray(eigenvalues, dtype=np.float64)
  u2 = np.random.default_rng(seed).standard_normal(lam.shape) ** 2
  grows = np.sum((1.0 - eta * lam) ** (2 * k) * u2, axis=1) > np.sum(u2, axis=1)
  p = float(grows.mean())
  return p, float(np.sqrt(max(p * (1.0 - p), 1.0 / len(grows)) / len(grows)))
