"""icljax-run --config=lsa_nonlinear --workdir=runs/lsa_nonlinear

Expected runtime: about 45 seconds on a 2-core CPU. Variant 'tanh' (--config=lsa_nonlinear:tanh) for tanh networks.

Result 1, Theorem 3 of Mahankali et al. (2023): targets are random one-hidden-layer networks
f(x) = sum_j a_j relu(u_j^T x), u_j ~ N(0, I), a_j ~ N(0, 1/m), x ~ N(0, I_5), n = 20, sigma = 0. The trained LSA
still implements plain one-step GD (B ∝ I), with the target-dependent step eta_F = n/(n+2d+3+4 sigma^2) = 0.6061
(Monte Carlo for tanh).
"""

from icljax.configs import _lsa, apply_arg

VARIANTS = {"tanh": {"activation": "tanh", "name": "lsa_nonlinear_tanh"}}


def get_config(arg=None):
  c = _lsa.base_config()
  c.name = "lsa_nonlinear_relu"
  c.sigma = 0.0
  c.prior = "identity"
  c.activation = "relu"
  c.width = 16
  c.steps = 4000
  return apply_arg(c, arg, quick=_lsa.QUICK, variants=VARIANTS)
