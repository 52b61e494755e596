"""LSA models: full vs reduced vs an independent NumPy loop, conventions, and the maps between forms."""

import itertools

import jax
import numpy as np
import pytest

from icljax.models import lsa
from icljax.tasks import regression


def _numpy_lsa(params, prompts, normalization="mean", include_query=False, residual=False):
  """Literal transcription of y = h^T c sum_i (W_V v_i)(v_i^T W_K^T W_Q v_q) (+ residual), in float64 loops."""
  p = {k: np.asarray(v, np.float64) for k, v in params.items()}
  x, y, xq = (np.asarray(prompts[k], np.float64) for k in ("x", "y", "x_query"))
  out = []
  for b in range(x.shape[0]):
    n = x.shape[1]
    toks = [np.append(x[b, i], y[b, i]) for i in range(n)]
    vq = np.append(xq[b], 0.0)
    if include_query:
      toks.append(vq)
    c = {"mean": 1 / n, "sum": 1.0, "mean_plus_one": 1 / (n + 1)}[normalization]
    acc = np.zeros_like(vq)
    for v in toks:
      acc += (p["W_V"] @ v) * float(v @ p["W_K"].T @ p["W_Q"] @ vq)
    acc = c * acc + (vq if residual else 0.0)
    out.append(p["h"] @ acc)
  return np.array(out)


@pytest.fixture(scope="module")
def prompts():
  return regression.sample(jax.random.key(1), regression.make_spec(3, 6, 0.3), 16)


@pytest.mark.parametrize("normalization,include_query,residual",
                         list(itertools.product(lsa.NORMALIZATIONS, [False, True], [False, True])))
def test_full_reduced_numpy_agree(prompts, normalization, include_query, residual):
  params = lsa.init(jax.random.key(0), 3, scale=0.7)
  kw = dict(normalization=normalization, include_query=include_query)
  full = np.asarray(lsa.apply(params, prompts, residual=residual, **kw))
  reference = _numpy_lsa(params, prompts, residual=residual, **kw)
  reduced = np.asarray(lsa.reduced_apply(lsa.reduce(params, residual=residual), prompts, **kw))
  lifted = np.asarray(lsa.apply(lsa.lift(lsa.reduce(params, residual=residual)), prompts, residual=residual, **kw))
  scale = np.max(np.abs(reference))
  # float32 with O(1) entries: agreement to float precision, far below any effect the tests look for.
  np.testing.assert_allclose(full, reference, atol=2e-6 * scale)
  np.testing.assert_allclose(reduced, reference, atol=2e-6 * scale)
  np.testing.assert_allclose(lifted, reference, atol=2e-6 * scale)
  stats = regression.statistics(prompts)
  n = prompts["x"].shape[1]
  from_stats = np.asarray(lsa.apply_statistics(params, stats, n=n, residual=residual, **kw))
  from_stats_reduced = np.asarray(lsa.apply_statistics(lsa.reduce(params, residual=residual), stats, n=n, **kw))
  np.testing.assert_allclose(from_stats, reference, atol=2e-6 * scale)
  np.testing.assert_allclose(from_stats_reduced, reference, atol=2e-6 * scale)


def test_normalisation_conventions_only_rescale(prompts):
  red = lsa.reduce(lsa.init(jax.random.key(2), 3))
  n = prompts["x"].shape[1]
  mean = lsa.reduced_apply(red, prompts)
  summed = lsa.reduced_apply({"w": red["w"] / n, "M": red["M"]}, prompts, normalization="sum")
  plus_one = lsa.reduced_apply({"w": red["w"] * (n + 1) / n, "M": red["M"]}, prompts,
                               normalization="mean_plus_one")
  np.testing.assert_allclose(summed, mean, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(plus_one, mean, rtol=1e-5, atol=1e-6)


def test_gauge_invariance(prompts):
  # Only products are identifiable: W_K -> R W_K, W_Q -> R^-T W_Q and (u, M) -> (c u, M/c) leave y_hat unchanged.
  params = lsa.init(jax.random.key(3), 3)
  r = np.asarray(jax.random.normal(jax.random.key(4), (4, 4))) + 3 * np.eye(4)
  moved = dict(params, W_K=r @ params["W_K"], W_Q=np.linalg.inv(r).T @ params["W_Q"])
  np.testing.assert_allclose(lsa.apply(moved, prompts), lsa.apply(params, prompts), rtol=1e-4, atol=1e-5)


def test_last_column_of_M_is_irrelevant(prompts):
  red = lsa.reduce(lsa.init(jax.random.key(5), 3))
  changed = dict(red, M=red["M"].at[:, -1].set(7.0))
  np.testing.assert_allclose(lsa.reduced_apply(changed, prompts), lsa.reduced_apply(red, prompts), rtol=1e-6)
