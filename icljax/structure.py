"""Extractors of the structures the papers predict, metrics against theory, and chex assertions.

LSA (Mahankali et al.): with ``u = W_V^T h = [u_x; u_y]`` and ``M = W_K^T W_Q = [[M_11, m_12], [m_21^T, m_22]]``,
the prediction splits (docs page "lsa", "Setting") into a part odd in the labels, ``x_{n+1}^T B g`` with

    B = c (u_y M_11^T + m_21 u_x^T),   g = (1/n) X^T y,

and parts even in the labels, which vanish at the optimum iff ``u_x = 0`` and ``m_21 = 0`` (for d >= 2).
``c = n * norm_factor`` converts other normalisation conventions to the 1/n one, so ``B`` is always comparable
with ``eta * Gamma`` of ``icljax.theory.lsa``.
"""

from __future__ import annotations

from collections.abc import Callable

import chex
import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from icljax.models import lsa, nearest_neighbor


def lsa_blocks(params: dict[str, jax.Array], spec: lsa.LsaSpec) -> dict[str, np.ndarray]:
  """Blocks ``u_x, u_y, M_11, m_21`` and the odd-part matrix ``B`` from full or reduced LSA parameters.

  Args:
    params: full (``W_K, W_Q, W_V, h``) or reduced (``w, M``) parameters.
    spec: the model (its context length and normalisation convert ``B`` to the 1/n convention).

  Returns:
    float64 numpy arrays ``u_x (d,)``, ``u_y ()``, ``M_11 (d, d)``, ``m_21 (d,)``, ``B (d, d)``.

  Reference: Mahankali et al. (2023), the label-odd part of the LSA prediction; derived on the docs page "lsa".
  """
  n, normalization = spec.n, spec.normalization
  reduced = params if "M" in params else lsa.reduce(params, spec)
  u = np.asarray(reduced["w"], np.float64)
  m = np.asarray(reduced["M"], np.float64)
  d = u.shape[0] - 1
  u_x, u_y, m_11, m_21 = u[:d], u[d], m[:d, :d], m[d, :d]
  c = n * lsa.norm_factor(n, normalization)
  b = c * (u_y * m_11.T + np.outer(m_21, u_x))
  return {"u_x": u_x, "u_y": np.float64(u_y), "M_11": m_11, "m_21": m_21, "B": b}


def leakage(blocks: dict[str, np.ndarray]) -> dict[str, float]:
  """Scale-free sizes of the label-even terms: ``|u_x|/|u_y|`` and ``|m_21|/|M_11|_F``.

  Both are invariant under the gauge ``(u, M) -> (c u, M / c)``; both are 0 at the optimum when d >= 2.

  Args:
    blocks: from :func:`lsa_blocks`.

  Returns:
    ``{'u_x', 'm_21'}`` (floats; a zero denominator counts as 1e-30).

  Reference: Mahankali et al. (2023), Theorem 1 (the label-even terms vanish at the optimum for d >= 2); derived on
  the docs page "lsa", section "Setting".
  """
  return {"u_x": float(np.linalg.norm(blocks["u_x"]) / max(float(abs(blocks["u_y"])), 1e-30)),
          "m_21": float(np.linalg.norm(blocks["m_21"]) / max(float(np.linalg.norm(blocks["M_11"])), 1e-30))}


def relative_error(a: np.ndarray, target: np.ndarray) -> float:
  """Relative Frobenius error ``|a - target|_F / |target|_F``.

  Args:
    a: the measured matrix.
    target: the reference (nonzero).

  Returns:
    The relative error.

  Reference: docs page "concepts/checks", section "Kinds: what a check is evidence of" (measured against reference).
  """
  a, target = np.asarray(a, np.float64), np.asarray(target, np.float64)
  return float(np.linalg.norm(a - target) / np.linalg.norm(target))


def dist_to_identity(a: np.ndarray) -> float:
  """Ahn et al.'s ``Dist(A, I) = min_c |A - c I|_F / |A|_F``; the minimiser is ``c = tr(A)/d``.

  Args:
    a: a square matrix.

  Returns:
    The distance in [0, 1].

  Reference: Ahn et al. (2023), the distance to a scaled identity of their Fig. 1 and Section 4.
  """
  a = np.asarray(a, np.float64)
  d = a.shape[0]
  return float(np.linalg.norm(a - np.trace(a) / d * np.eye(d)) / np.linalg.norm(a))


def dist_noise_weights(matrix: np.ndarray, noise_cov: np.ndarray) -> np.ndarray:
  """The weights of the quadratic form that ``Dist(X, I)^2`` is, to first order, when ``X`` is a multiple of I plus
  Gaussian noise: ``Dist^2 = sum_i w_i z_i^2`` with ``z_i`` i.i.d. N(0, 1).

  With ``X = c I + E``, ``X - tr(X)/d I = P E`` (P removes the trace part, linear) and ``|X|_F^2 = c^2 d + O(E)``,
  so ``Dist^2 = |P vec(E)|^2 / |X|_F^2``: the weights are the eigenvalues of ``P C P / |X|_F^2``, C the noise's
  covariance. Evaluated at the measured ``X`` (its norm), as the statistic is.

  Args:
    matrix: the (d, d) matrix whose distance is tested (the measured one).
    noise_cov: (d^2, d^2) covariance of its row-major ``vec``.

  Returns:
    The d^2 non-negative weights (one is 0: the trace direction).

  Reference: the delta method, van der Vaart, Asymptotic Statistics (1998), ch. 3; the weighted chi-square null of
  the docs page "concepts/checks", section "Error bars computed in the run".
  """
  x = np.asarray(matrix, np.float64)
  d = x.shape[0]
  eye = np.eye(d).ravel()
  proj = np.eye(d * d) - np.outer(eye, eye) / d
  w = np.linalg.eigvalsh(proj @ np.asarray(noise_cov, np.float64) @ proj) / float(np.sum(x**2))
  return np.clip(w, 0.0, None)


def whiten(b: npt.ArrayLike, cov: npt.ArrayLike) -> np.ndarray:
  """``Sigma^{1/2} B Sigma^{1/2}``: equals ``eta* I`` at the optimum for the N(0, Sigma^{-1}) prior.

  Args:
    b: a (d, d) matrix.
    cov: the covariance Sigma.

  Returns:
    The whitened matrix (float64).

  Reference: Mahankali et al. (2023), Theorem 2 (``B = eta* Sigma^{-1}``); docs page "lsa".
  """
  evals, evecs = np.linalg.eigh(np.asarray(cov, np.float64))
  root = (evecs * np.sqrt(evals)) @ evecs.T
  return root @ np.asarray(b, np.float64) @ root


def prediction_rel_rms(pred: npt.ArrayLike, reference: npt.ArrayLike) -> float:
  """``sqrt(mean((pred - ref)^2) / mean(ref^2))``.

  Args:
    pred: predictions.
    reference: reference predictions.

  Returns:
    The relative RMS.

  Reference: docs page "concepts/checks", section "Kinds: what a check is evidence of" (measured against reference).
  """
  pred, reference = np.asarray(pred, np.float64), np.asarray(reference, np.float64)
  return float(np.sqrt(np.mean((pred - reference) ** 2) / np.mean(reference**2)))


def sensitivity_cosine(predict_a: Callable[[dict[str, jax.Array]], jax.Array],
                       predict_b: Callable[[dict[str, jax.Array]], jax.Array],
                       prompts: dict[str, jax.Array]) -> float:
  """Mean cosine between ``d y_hat / d x_{n+1}`` of two predictors (von Oswald et al.'s "model cos").

  Each prediction depends only on its own prompt's query, so the gradient of the batch sum with respect to
  ``x_query`` holds every prompt's own sensitivity.

  Args:
    predict_a: prompts -> predictions.
    predict_b: prompts -> predictions.
    prompts: raw prompts.

  Returns:
    The mean cosine over prompts.

  Reference: von Oswald et al. (2023), "Transformers learn in-context by gradient descent", ICML (model cos).
  """
  def grads(predict):
    fn = lambda xq: jnp.sum(predict({**prompts, "x_query": xq}))
    return jax.grad(fn)(prompts["x_query"])

  ga, gb = grads(predict_a), grads(predict_b)
  cos = jnp.sum(ga * gb, -1) / (jnp.linalg.norm(ga, axis=-1) * jnp.linalg.norm(gb, axis=-1) + 1e-30)
  return float(jnp.mean(cos))


def assert_lsa_structure(params: dict[str, jax.Array], target_b: np.ndarray, spec: lsa.LsaSpec, *,
                         rtol: float = 0.03, leak_tol: float = 0.02) -> str:
  """Asserts that trained LSA parameters implement one step of (preconditioned) GD.

  Args:
    params: trained full or reduced parameters.
    target_b: the theory matrix (eta* I, eta* Sigma^-1, Gamma*, ...).
    spec: the model.
    rtol: relative Frobenius tolerance on B.
    leak_tol: tolerance on the scale-free leakage terms.

  Checks: parameters finite and of the documented shapes; ``|B - target|_F / |target|_F <= rtol``; for d >= 2 the
  leakage ``|u_x|/|u_y|`` and ``|m_21|/|M_11|_F`` are at most ``leak_tol``. For d = 1 a second branch of global
  minimisers exists (``u_y = 0``, ``M_11 = 0``, ``u_x m_21 = eta*``; Mahankali et al. Thm 1) with the same
  predictions, so only ``B`` is checked and the returned note says so.

  Returns:
    A note for the run summary ("" when every check applies).

  Raises:
    AssertionError: naming the failed check, the measured value and the tolerance.

  Reference: Mahankali et al. (2023), Theorems 1 and 2; docs page "lsa", section "What is checked and why".
  """
  chex.assert_tree_all_finite(params)
  blocks = lsa_blocks(params, spec)
  d = blocks["B"].shape[0]
  chex.assert_shape(target_b, (d, d))
  err = relative_error(blocks["B"], target_b)
  if not err <= rtol:
    raise AssertionError(f"B is not the predicted one-step-GD matrix: relative error {err:.4g} > {rtol:g}")
  if d == 1:
    return ("d = 1: leakage not checked, since u_y = 0, M_11 = 0, u_x m_21 = eta* is a second optimum branch "
            "with the same prediction function")
  for name, value in leakage(blocks).items():
    if not value <= leak_tol:
      raise AssertionError(f"label-even leakage {name} = {value:.4g} > {leak_tol:g}: the model is not pure GD")
  return ""


def assert_in_nn_family(w: jax.Array, atol: float) -> None:
  """chex-style assertion that ``W`` is on the 1-NN family: the label column exactly 0 and every other off-family
  entry at most ``atol`` in Frobenius norm (float rounding under the symmetrised estimator).

  Reference: Li et al. (2024) Lemma 2 (the two-parameter reduction).

  Args:
    w: a (d+2, d+2) matrix.
    atol: tolerance on the off-family norm.

  Raises:
    AssertionError: naming the norm that is too large.
  """
  chex.assert_rank(w, 2)
  chex.assert_tree_all_finite(w)
  res = nearest_neighbor.off_family(w)
  if res["label_column"] != 0.0:
    raise AssertionError(f"W left the 1-NN family: label column norm {res['label_column']:.3g} != 0")
  if not res["other"] <= atol:
    raise AssertionError(f"W left the 1-NN family: off-family norm {res['other']:.3g} > {atol:g}")
