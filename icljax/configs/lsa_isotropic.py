"""icljax-run --config=lsa_isotropic --workdir=runs/lsa_isotropic

Expected runtime: about 25 seconds on a 2-core CPU.

Result 1, Theorem 1 of Mahankali et al. (2023): x ~ N(0, I_5), w* ~ N(0, I), n = 20, sigma = 0.5. The trained
one-layer LSA implements one GD step with eta* = n/(n+d+1+sigma^2) = 0.7619 and reaches L* = 1.4405.
Argument: 'quick' (tiny sizes), 'exact' (L-BFGS on the exact population loss in float64, about 10 s), 'd1'
(d = 1, n = 10: the second optimum branch) and/or 'field=value' words, e.g. --config=lsa_isotropic:n=40,sigma=1.0.
"""

from icljax.configs import _lsa, apply_arg

VARIANTS = {"exact": _lsa.EXACT, "d1": {"d": 1, "n": 10, "name": "lsa_isotropic_d1"}}


def get_config(arg=None):
  c = _lsa.base_config()
  c.name = "lsa_isotropic"
  return apply_arg(c, arg, quick=_lsa.QUICK, variants=VARIANTS)
