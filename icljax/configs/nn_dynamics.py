"""icljax-run --config=nn_dynamics --workdir=runs/nn_dynamics

Expected runtime: about 2 minutes on a 2-core CPU.

Result 2 (Li et al. 2024): full-W population GD from W_0 (d=8, N=16, sigma=3, eta=0.05, 10^4 steps) on a sample
closed under the symmetries of ``tasks.nearest_neighbor.symmetrize`` stays in the family diag(xi1 I, 0, -xi2) to
float rounding, beside the reduced system on the same prompts and the reduced population system (digest P6 row
t=1e4).
"""

from icljax.configs import _nn, apply_arg


def get_config(arg=None):
  c = _nn.base_config()
  c.name = "nn_dynamics"
  c.model = "both"
  c.estimator = "symmetrized"
  c.references = ((10_000, 2.881, 3.400, 0.3343, None),)
  c.extras = ("sphere", "ensemble", "sigma_ratio")
  # Lemma 12's 7/15 at d = 8, N = 16 from sigma = 47.5 > its threshold 47.0, to eta t = 5e4 (t = 1e6 at eta = 0.05)
  # in 1e4 steps of eta = 5 (P8: the trajectory depends on eta t only; eta = 0.5 gives the same ratio to 1e-4).
  c.ratio_sigmas = (47.5,)
  c.ratio_eta = 5.0
  c.ratio_horizon = 5e4
  return apply_arg(c, arg, quick=_nn.QUICK)
