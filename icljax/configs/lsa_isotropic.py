"""icljax-run --config=lsa_isotropic --workdir=runs/lsa_isotropic

Expected runtime: about 25 seconds on a 2-core CPU.

Result 1, Theorem 1 of Mahankali et al. (2023): x ~ N(0, I_5), w* ~ N(0, I), n = 20, sigma = 0.5. The trained
one-layer LSA implements one GD step with eta* = n/(n+d+1+sigma^2) = 0.7619 and reaches L* = 1.4405.
Argument: 'quick' (tiny sizes), 'exact' (L-BFGS on the exact population loss in float64, about 10 s), 'd1'
(d = 1, n = 10: the second optimum branch), 'control' (the negative control: w* ~ N(0, diag(4, 2, 1, 0.5, 0.25)),
a prior that is not rotation invariant, so the optimum B* = Psi G^-1 is not plain GD), 'grid' (names the run by
n and sigma: the main job's eta* grid, e.g. 'n=40,sigma=1.0,exact,grid'), 'conv' (names the run by its LSA
convention, digest section 2.4: e.g. 'exact,normalization=sum,conv') and/or 'field=value' words,
e.g. --config=lsa_isotropic:n=40,sigma=1.0.
"""

from icljax.configs import _lsa, apply_arg

VARIANTS = {"exact": _lsa.EXACT, "d1": {"d": 1, "n": 10, "name": "lsa_isotropic_d1"},
            "grid": {"name": lambda c: f"lsa_eta_grid_n{c.n}_sigma{c.sigma:g}", "eval_prompts": 20_000},
            "conv": {"name": lambda c: ("lsa_conv_" + c.normalization + ("_query" if c.include_query else "")
                                        + ("_residual" if c.residual else "") + f"_{c.parameterization}")},
            "control": {"prior": "spectrum", "prior_spectrum": (4.0, 2.0, 1.0, 0.5, 0.25),
                        "name": "lsa_isotropic_control"}}


def get_config(arg=None):
  c = _lsa.base_config()
  c.name = "lsa_isotropic"
  return apply_arg(c, arg, quick=_lsa.QUICK, variants=VARIANTS)
