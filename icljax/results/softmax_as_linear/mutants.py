"""Code-path mutants of softmax_as_linear: plausible bugs in the sampler, the model and the theory, each of which
the science gate (``softmax_as_linear:gate``, or the Toeplitz / uniform gate it names) must catch.

Reference: docs page "softmax_as_linear", section "Code-path mutants".
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from icljax.experiment.api import Mutant, RunRef
from icljax.theory import softmax_as_linear_exact as _exact

_TOEPLITZ_GATE = RunRef("softmax_as_linear", ("gate",), {"covariance": "toeplitz"})
_UNIFORM_GATE = RunRef("softmax_as_linear", ("gate",), {"tokens": "uniform", "d": 2, "population": False,
                                                        "linear": False})


def _transposed_root(orig):
  def sample_tokens(key, spec, shape):
    x = orig(key, spec, shape)
    return x @ jnp.linalg.inv(spec.root.T) @ spec.root   # u R instead of u R^T: covariance R^T R, not Sigma
  return sample_tokens


def _scaled_logits(orig):
  def logits(keys, U, query):
    return orig(keys, U, query) / math.sqrt(keys.shape[-1] + 1)   # the scaled dot product of MultiHeadAttention
  return logits


def _physicists_hermite(orig):
  del orig
  def gauss_hermite(degree):
    x, w = np.polynomial.hermite.hermgauss(degree)   # weight e^{-x^2}: nodes not scaled by sqrt 2
    return x, w / math.sqrt(math.pi)
  return gauss_hermite


def _kappa_exponent(orig):
  def kappa(t, d, trace, noise_ratio=0.0):
    return orig(t, d, trace, noise_ratio) / (1 - 2 * t)   # (1-2t)^{-d/2-1}, the exponent of the first term of F
  return kappa


def _larger_root(orig):
  def t_star(d, trace, noise_ratio=0.0):
    qa, qc = (d + 2) * (trace + 2 * noise_ratio), trace + noise_ratio
    return qc / (qa * orig(d, trace, noise_ratio))   # the product of the roots is qc/qa: the other root
  return t_star


def _swapped_terms(orig):
  del orig
  def first_order_excess(t, d, trace, noise_ratio=0.0, prior_var=1.0):
    u = 1 - 2 * t   # the two exponents swapped between the bias and the variance term
    return prior_var * (trace * u ** (-d / 2) + (trace + noise_ratio) * u ** (-d / 2 - 1) / t)
  return first_order_excess


def _radius_power(orig):
  del orig
  def radius_rule(d, nodes=_exact.RADIUS_NODES):
    x, w = np.polynomial.legendre.leggauss(nodes)   # the chi density's power w^{d-1} written w^d
    v = (x + 1) * _exact.RADIUS_MAX / 2
    dens = 2 * np.exp(d * np.log(v) - v * v - math.lgamma(d / 2))
    return math.sqrt(2.0) * v, w * _exact.RADIUS_MAX / 2 * dens
  return radius_rule


def _dropped_trace(orig):
  def linear_attention_optimum(cov, L, noise_ratio, prior_var=1.0):
    cov = np.asarray(cov, np.float64)   # the tr(Sigma)/L ridge of the label variance forgotten
    return orig(cov, L, noise_ratio - float(np.trace(cov)), prior_var)
  return linear_attention_optimum


def _u_for_lambda(orig):
  def output_error_expansion(d, trace, lam):
    return orig(d, trace, math.sqrt(lam))   # u passed where lambda = u^2 is expected
  return output_error_expansion


def _one_token(orig):
  del orig
  def error_at_one_token(cov, U, V):
    cov, V = np.asarray(cov, np.float64), np.asarray(V, np.float64)
    return float(np.trace(V @ cov @ V.T))   # the limit's own spread |V Gamma U|_F^2 forgotten
  return error_at_one_token


def _quarter_power(orig):
  del orig
  def balanced_endpoint(cov, level=0.0):
    inv = np.linalg.inv(np.asarray(cov, np.float64))
    b = float(np.trace(inv @ inv)) ** 0.5 - level / 2   # tr(Sigma^-2)^{1/2}: the square root taken twice
    return inv / b, b
  return balanced_endpoint


_T = "icljax.theory.softmax_as_linear"
MUTANTS = (
    Mutant("cholesky_transposed", "icljax.tasks.softmax_as_linear:sample_tokens", _transposed_root,
           "tokens drawn as u R instead of u R^T (covariance R^T R, not the Toeplitz Sigma)",
           ("operator_identity",), gate=_TOEPLITZ_GATE),
    Mutant("temperature_scaled", "icljax.models.softmax_as_linear:logits", _scaled_logits,
           "scores scaled by 1/sqrt(d+1) (the official model's scaled dot product) in a layer read as unscaled",
           ("operator_identity", "finite_t", "finite_product", "linear_product")),
    Mutant("physicists_hermite", f"{_T}:gauss_hermite", _physicists_hermite,
           "numpy's physicists' Gauss-Hermite rule used as the probabilists' one (nodes not scaled by sqrt 2)",
           ("operator_quadrature",)),
    Mutant("uniform_unscaled", "icljax.tasks.softmax_as_linear:unit_draws",
           lambda orig: lambda key, tokens, shape: orig(key, tokens, shape) / (math.sqrt(3.0) if tokens == "uniform"
                                                                               else 1.0),
           "uniform coordinates drawn on [-1, 1] (variance 1/3) instead of [-sqrt 3, sqrt 3]",
           ("operator_law_limit",), gate=_UNIFORM_GATE),
    Mutant("kappa_exponent", f"{_T}_finite:kappa", _kappa_exponent,
           "kappa with (1-2t)^{-d/2-1}, the exponent of F's other term", ("kappa_limit",)),
    Mutant("t_star_larger_root", f"{_T}_finite:t_star", _larger_root,
           "t* as the larger root of the quadratic", ("t_star_limit",)),
    Mutant("F_swapped_exponents", f"{_T}_finite:first_order_excess", _swapped_terms,
           "F(t) with the exponents of its bias and variance terms swapped", ("F_limit",)),
    Mutant("radius_density_power", f"{_T}_exact:radius_rule", _radius_power,
           "the query-radius density w^{d-1} e^{-w^2} written w^d e^{-w^2}",
           ("finite_t", "finite_excess", "softmax_minus_linear")),
    Mutant("linear_optimum_trace", f"{_T}:linear_attention_optimum", _dropped_trace,
           "linear attention's optimum without the tr(Sigma)/L ridge of the label variance",
           ("linear_product", "linear_excess", "softmax_minus_linear")),
    Mutant("u_for_lambda", f"{_T}:output_error_expansion", _u_for_lambda,
           "the concentration constant evaluated at u where lambda = u^2 is expected",
           ("concentration_constant", "concentration_slope")),
    Mutant("one_token_spread", f"{_T}:error_at_one_token", _one_token,
           "the L = 1 error without the limit's own spread |V Gamma U|_F^2", ("one_token_error",)),
    Mutant("endpoint_square_root", f"{_T}:balanced_endpoint", _quarter_power,
           "b = tr(Sigma^-2)^{1/2} instead of tr(Sigma^-2)^{1/4}", ("population_endpoint",)),
)
