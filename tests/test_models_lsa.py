"""LSA models: full vs reduced vs an independent NumPy loop, conventions, and the maps between forms."""

import itertools

import jax
import numpy as np
import pytest

from icljax.models import lsa
from icljax.tasks import regression, regression_statistics


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
  spec = lsa.LsaSpec(3, 6, normalization=normalization, include_query=include_query, residual=residual,
                     init_scale=0.7)
  params = lsa.init(jax.random.key(0), spec)
  full = np.asarray(lsa.apply(params, prompts, spec))
  reference = _numpy_lsa(params, prompts, normalization=normalization, include_query=include_query,
                         residual=residual)
  reduced = np.asarray(lsa.apply(lsa.reduce(params, spec), prompts, spec))
  lifted = np.asarray(lsa.apply(lsa.lift(lsa.reduce(params, spec)), prompts, spec))
  scale = np.max(np.abs(reference))
  # float32 with O(1) entries: agreement to float precision, far below any effect the tests look for.
  np.testing.assert_allclose(full, reference, atol=2e-6 * scale)
  np.testing.assert_allclose(reduced, reference, atol=2e-6 * scale)
  np.testing.assert_allclose(lifted, reference, atol=2e-6 * scale)
  stats = regression_statistics.statistics(prompts)
  from_stats = np.asarray(lsa.apply(params, stats, spec))
  from_stats_reduced = np.asarray(lsa.apply(lsa.reduce(params, spec), stats, spec))
  np.testing.assert_allclose(from_stats, reference, atol=2e-6 * scale)
  np.testing.assert_allclose(from_stats_reduced, reference, atol=2e-6 * scale)


def test_normalisation_conventions_only_rescale(prompts):
  n = prompts["x"].shape[1]
  spec = lsa.LsaSpec(3, n, parameterization="reduced")
  red = lsa.init(jax.random.key(2), spec)
  mean = lsa.apply(red, prompts, spec)
  summed = lsa.apply({"w": red["w"] / n, "M": red["M"]}, prompts, lsa.LsaSpec(3, n, normalization="sum"))
  plus_one = lsa.apply({"w": red["w"] * (n + 1) / n, "M": red["M"]}, prompts,
                       lsa.LsaSpec(3, n, normalization="mean_plus_one"))
  np.testing.assert_allclose(summed, mean, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(plus_one, mean, rtol=1e-5, atol=1e-6)


def test_gauge_invariance(prompts):
  # Only products are identifiable: W_K -> R W_K, W_Q -> R^-T W_Q and (u, M) -> (c u, M/c) leave y_hat unchanged.
  spec = lsa.LsaSpec(3, 6)
  params = lsa.init(jax.random.key(3), spec)
  r = np.asarray(jax.random.normal(jax.random.key(4), (4, 4))) + 3 * np.eye(4)
  moved = dict(params, W_K=r @ params["W_K"], W_Q=np.linalg.inv(r).T @ params["W_Q"])
  np.testing.assert_allclose(lsa.apply(moved, prompts, spec), lsa.apply(params, prompts, spec), rtol=1e-4,
                             atol=1e-5)


def test_last_column_of_M_is_irrelevant(prompts):
  spec = lsa.LsaSpec(3, 6, parameterization="reduced")
  red = lsa.init(jax.random.key(5), spec)
  changed = dict(red, M=red["M"].at[:, -1].set(7.0))
  np.testing.assert_allclose(lsa.apply(changed, prompts, spec), lsa.apply(red, prompts, spec), rtol=1e-6)
