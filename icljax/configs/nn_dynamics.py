"""icljax-run --config=nn_dynamics --workdir=runs/nn_dynamics

Expected runtime: about 2 minutes on a 2-core CPU.

Result 2 (Li et al. 2024): full-W population GD from W_0 (d=8, N=16, sigma=3, eta=0.05, 10^4 steps) on a sample
closed under the symmetries of ``tasks.nearest_neighbor.symmetrize`` stays in the family diag(xi1 I, 0, -xi2) to
float rounding, beside the reduced system on the same prompts and the reduced population system (the reference
rows P6 at t=1e4, and at eta t = 5e4 from the sigma-ratio run).
"""

from icljax.configs import _nn, apply_arg


def get_config(arg=None):
  c = _nn.base_config()
  c.name = "nn_dynamics"
  c.model = "both"
  c.estimator = "symmetrized"
  c.references = ((10_000, "2.881", "3.400", "0.3343", None),)
  c.extras = ("sphere", "ensemble", "sigma_ratio")
  # Lemma 12's 7/15 at d = 8, N = 16 from sigma = 47.5 > its threshold 47.0, to eta t = 5e4 (t = 1e6 at eta = 0.05)
  # in 1e4 steps of eta = 5 (P8: the trajectory depends on eta t only; eta = 0.5 gives the same ratio to 1e-4),
  # and from sigma = 3 the P6 row at eta = 0.5, t = 1e5.
  c.ratio_sigmas = (3.0, 47.5)
  c.sigma_references = ((3.0, 0.5, 100_000, "27.72", "24.61", "0.0432", "0.853"),)
  c.ratio_eta = 5.0
  c.ratio_horizon = 5e4
  c.noise_eta = 10.0              # the influences' step at d = 8: within 3% of eta = 0.5's (tests, notes)
  return apply_arg(c, arg, quick=_nn.QUICK)
