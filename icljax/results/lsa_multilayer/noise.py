"""The trained layers' sampling noise, and the isotropy checks' tolerances computed from it.

L-BFGS minimises the loss on one sample of M prompts, so the trained parameters are that sample's minimiser: off
the population's by noise of covariance ``H^+ V H^+ / M`` (``stats.sandwich_covariance``, with the training
objective's per-prompt loss, the query integrated out). On Theorem 3's critical point the whitened
``Sigma^1/2 A_l Sigma^1/2`` is ``a_l I`` (and ``B_l = b_l I`` on Theorem 4's family), so ``Dist(., I)`` of the
trained matrix is, to first order, the norm of the noise's traceless part over the matrix's norm: a weighted
chi-square (``structure.dist_noise_weights``) whose quantile with the tail of k standard errors
(``stats.quadratic_form_quantile``) is the tolerance, at the run's own M. A fixed 3% held at M = 200000
and failed at 50000.

H and V are computed once, in the plan, at the theory's point (Theorem 3's optimum; Theorem 4's best family member),
never at the trained parameters: a trained point off the structure is not a minimiser, and there the sandwich is
meaningless (at a perturbed B_0 it grew 10^4-fold and let the perturbation pass). They need many prompts: the
per-prompt loss is a polynomial of degree up to 2L + 1 in the Gram matrix, and on 20000 prompts the noise estimate
varied by a factor 2.2 between samples (under-estimating: 0.007-0.017 against 0.018-0.020 on 100000). With fresh
batches (no fixed sample) M is one batch, which overstates the noise at the end of a decaying schedule.

The learned steps (B_l = 0) get their covariance without the prompts' heavy tails (:func:`step_covariance`): the
whitened problem is invariant under rotations (S -> O S O^T, u -> O u), so at ``A_l = a_l Sigma^-1`` H and V are block
diagonal between the multiples of I and the rest (Schur), and the steps' noise is the sandwich of the scalar family
alone, ``H_a^-1 V_a H_a^-1 / M``: H_a the exact Hessian of Theorem 3's polynomial f(a) (Wishart moments), V_a the
covariance of the per-prompt gradient in a, integrated over w* exactly and over S's eigenvalues by Monte Carlo on
2e6 Laguerre draws. The full sandwich's trace block on 1e5 prompts varied 1.6-fold between samples (0.0012-0.0020 for
a_0 at M = 200000); this one by +-4% (0.00143-0.00155).

Reference: docs page "lsa_multilayer", section "What is checked and why" (the derivations of both nulls).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from icljax import stats, structure
from icljax.tasks import regression
from icljax.theory import lsa_multilayer as with_b
from icljax.theory import lsa_multilayer_gd


@dataclasses.dataclass(frozen=True)
class IsotropyNull:
  """Per layer of the theory's point, the weights of ``Dist^2``'s null distribution for M = 1 (they scale as 1/M).

  Attributes:
    steps: the whitened steps a_l of the theory's point, in its layer order.
    a_weights: per layer, the weights for ``Dist(Sigma^1/2 A_l Sigma^1/2, I)^2``.
    b_weights: per layer before the last, the weights for ``Dist(B_l, I)^2`` (empty without B).
    scalar_cov: the covariance (M = 1) of the whitened steps ``a_l = tr(Sigma^1/2 A_l Sigma^1/2)/d``, layer order
      (B_l = 0: :func:`step_covariance`), followed (with B) by the factors ``b_l = tr(B_l)/d`` of the layers before
      the last (the sandwich's linear functionals): (L,) or (2L - 1,) square.

  Reference: docs page "lsa_multilayer", section "What is checked and why" (`whitened_isotropic`, `steps`).
  """

  steps: np.ndarray
  a_weights: tuple[np.ndarray, ...]
  b_weights: tuple[np.ndarray, ...]
  scalar_cov: np.ndarray

  def step_se(self, layer: int, size: int) -> float:
    """The standard error of the theory layer's whitened step after M = ``size`` prompts.

    Args:
      layer: the theory layer (index into ``steps``).
      size: M.

    Returns:
      The standard error, ``sqrt(scalar_cov[layer, layer] / size)``.

    Reference: docs page "lsa_multilayer", section "What is checked and why" (`steps`).
    """
    return float(np.sqrt(self.scalar_cov[layer, layer] / size))


def _flatten(params: dict[str, np.ndarray]) -> tuple[jax.Array, Callable[[jax.Array], dict[str, jax.Array]]]:
  """``A`` (L, d, d) and, when present, ``B_l`` for l < L - 1 (the last B reaches nothing) as one vector."""
  a = np.asarray(params["A"])
  if "B" not in params:
    return jnp.asarray(a.ravel()), lambda t: {"A": t.reshape(a.shape)}
  b = np.asarray(params["B"])[:-1]

  def unflatten(t):
    return {"A": t[:a.size].reshape(a.shape),
            "B": jnp.concatenate([t[a.size:].reshape(b.shape), jnp.zeros((1,) + b.shape[1:], t.dtype)])}

  return jnp.asarray(np.concatenate([a.ravel(), b.ravel()])), unflatten


def isotropy_null(task: regression.RegressionSpec, key: jax.Array, steps: np.ndarray,
                  factors: np.ndarray | None = None, prompts: int = 100_000) -> IsotropyNull:
  """The null distributions of the isotropy checks at ``A_l = a_l Sigma^-1`` (and ``B_l = b_l I``).

  Args:
    task: the regression prompts (Sigma, d, n).
    key: key of the fresh prompts.
    steps: a_l (L,), the theory's whitened steps.
    factors: b_l (L - 1,) when B is trained, else None.
    prompts: fresh prompts for H and V (a multiple of 1000 above 1000).

  Returns:
    The weights for M = 1.

  Reference: the sandwich covariance of an M-estimator (Huber 1967; White 1980) at Theorem 3's critical point or
  Theorem 4's family member; docs page "lsa_multilayer", section "What is checked and why"
  (`whitened_isotropic`, `b_isotropic`).
  """
  cov = np.asarray(task.cov, np.float64)
  d, L = cov.shape[0], len(steps)
  point = {"A": np.stack([a * np.linalg.inv(cov) for a in steps])}
  if factors is not None:
    point["B"] = np.stack([b * np.eye(d) for b in factors] + [np.zeros((d, d))])
  theta, unflatten = _flatten(point)
  batch = regression.sample(key, task, prompts, weights=True)
  data = {**with_b.gram_statistics(batch), "w": batch["w"]}

  def per_prompt(t, b):
    err = with_b.effective_weights(unflatten(t), b) - b["w"]
    return jnp.einsum("bd,de,be->b", err, jnp.asarray(cov, err.dtype), err)

  covariance = stats.sandwich_covariance(per_prompt, theta, data, size=1)
  evals, evecs = np.linalg.eigh(cov)
  root = (evecs * np.sqrt(evals)) @ evecs.T
  lift = np.kron(root, root)   # vec(R A R) = (R kron R) vec(A), row-major
  block = lambda i: covariance[i * d * d:(i + 1) * d * d, i * d * d:(i + 1) * d * d]
  a_weights = tuple(structure.dist_noise_weights(structure.whiten(point["A"][i], cov), lift @ block(i) @ lift.T)
                    for i in range(L))
  b_weights = tuple(structure.dist_noise_weights(point["B"][i], block(L + i)) for i in range(L - 1)
                    ) if factors is not None else ()
  # a_l = tr(R A_l R)/d = vec(Sigma) . vec(A_l) / d and b_l = vec(I) . vec(B_l) / d: linear in the parameters.
  rows = [np.kron(np.eye(L), cov.ravel()[None] / d)]
  if factors is not None:
    rows = [np.pad(rows[0], ((0, 0), (0, (L - 1) * d * d))),
            np.pad(np.kron(np.eye(L - 1), np.eye(d).ravel()[None] / d), ((0, 0), (L * d * d, 0)))]
  functionals = np.concatenate(rows)
  scalar_cov = (functionals @ covariance @ functionals.T if factors is not None
                else step_covariance(d, task.n, steps, jax.random.fold_in(key, 1)))
  return IsotropyNull(np.asarray(steps, np.float64), a_weights, b_weights, scalar_cov)


def step_covariance(d: int, n: int, steps: np.ndarray, key: jax.Array, draws: int = 2_000_000,
                    chunk: int = 500_000) -> np.ndarray:
  """The covariance (M = 1) of the sample minimiser's whitened steps on Theorem 3's class, at the steps ``a``.

  Whitened, the per-prompt loss (query integrated) is ``sum_j p(lam_j)^2 xi_j`` with ``p(lam) = prod_l (1 - a_l
  lam)``, lam the eigenvalues of S and ``xi_j ~ chi^2_1`` independent of them (w* in S's eigenbasis). Its gradient in
  a is ``sum_j x_lj xi_j``, ``x_lj = d p(lam_j)^2 / d a_l``, so over xi, ``E[g_l g_m | lam] = (sum_j x_lj)(sum_j x_mj)
  + 2 sum_j x_lj x_mj``; V is its mean over lam minus the mean gradient's outer product, H the exact Hessian of f.

  Args:
    d: dimension.
    n: examples.
    steps: the steps (L,) (Theorem 3's optimum).
    key: key of the eigenvalue draws.
    draws: eigenvalue draws (a multiple of ``chunk``).
    chunk: draws per compiled step.

  Returns:
    (L, L) covariance for M = 1 (float64).

  Reference: derived on the docs page "lsa_multilayer", section "What is checked and why" (`steps`: rotation
  invariance makes H and V block diagonal at A_l = a_l Sigma^-1).
  """
  with jax.enable_x64(True):
    a = jnp.asarray(steps, jnp.float64)
    moments = jnp.asarray(lsa_multilayer_gd.trace_moments(d, n, 2 * a.shape[0]))
    hessian = np.asarray(jax.hessian(lambda t: lsa_multilayer_gd.pgd_loss(t, moments))(a))
    parts = [_gradient_moments(a, jax.random.fold_in(key, i), d, n, chunk) for i in range(draws // chunk)]
    second, first = (np.mean([np.asarray(p[i]) for p in parts], 0) for i in (0, 1))
  inv = np.linalg.pinv(hessian)
  return inv @ (second - np.outer(first, first)) @ inv


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _gradient_moments(a: jax.Array, key: jax.Array, d: int, n: int, count: int) -> tuple[jax.Array, jax.Array]:
  """Over ``count`` eigenvalue draws: the mean of ``E[g g^T | lam]`` and of ``E[g | lam]`` (see step_covariance)."""
  lam = with_b.wishart_eigenvalues(key, d, n, count)
  squared = lambda t: jnp.prod((1 - t[:, None, None] * lam[None]) ** 2, axis=0)    # p(lam)^2, (count, d)
  x = jnp.moveaxis(jax.jacfwd(squared)(a), -1, 1)                                   # (count, L, d)
  total = x.sum(-1)
  return (total[:, :, None] * total[:, None, :] + 2 * jnp.einsum("klj,kmj->klm", x, x)).mean(0), total.mean(0)


def match_layers(trained_steps: np.ndarray, null: IsotropyNull, permutable: bool) -> list[int]:
  """The theory layer each trained layer is compared with: Theorem 3's loss depends on the multiset of steps only
  (the layers' GD steps commute), so a B = 0 model may learn them in any order; with B_l the order is fixed.

  Args:
    trained_steps: the trained whitened steps, layer order.
    null: the theory's null (its steps).
    permutable: whether the layers may be permuted (B = 0).

  Returns:
    For each trained layer, the index of its theory layer.

  Reference: Ahn et al. (2023) Theorem 3 (the steps in some order); docs page "lsa_multilayer", section "What is
  checked and why" (`steps`).
  """
  if not permutable:
    return list(range(len(trained_steps)))
  order = np.empty(len(trained_steps), int)
  order[np.argsort(trained_steps)] = np.argsort(null.steps)
  return order.tolist()


def tolerance(weights: np.ndarray, size: int) -> Callable[[float], float]:
  """``k -> `` the tail quantile of ``Dist`` (not squared) after M = ``size`` prompts, for ``Checker(quantile=)``.

  Args:
    weights: the weights of ``Dist^2``'s null for M = 1 (``IsotropyNull.a_weights`` or ``b_weights``).
    size: M.

  Returns:
    ``k -> sqrt(q_k)``, ``q_k`` the quantile of ``sum_i (w_i / M) z_i^2`` with the two-sided tail of k normal
    standard errors (Liu, Tang and Zhang's chi-square approximation).

  Reference: docs page "lsa_multilayer", section "What is checked and why" (`whitened_isotropic`).
  """
  return lambda k: float(np.sqrt(stats.quadratic_form_quantile(np.asarray(weights) / size, k)))


def rms(weights: np.ndarray, size: int) -> float:
  """The root-mean-square ``Dist`` under its null after M = ``size`` prompts (``sqrt(sum w / M)``).

  Args:
    weights: the weights of ``Dist^2``'s null for M = 1.
    size: M.

  Returns:
    The RMS distance (quoted in the isotropy checks' notes).

  Reference: docs page "lsa_multilayer", section "What is checked and why" (`whitened_isotropic`).
  """
  return float(np.sqrt(np.sum(weights) / size))
