"""icljax-run --config=nn_long --workdir=runs/nn_long

Expected runtime: about 1 minute on a 2-core CPU (10^6 reduced GD steps in ~40 s, see timing.json, then the
sigma-ratio runs).

Result 2 (Li et al. 2024): the reduced population system (d=N=4, sigma=3, eta=0.05) to 10^6 steps: the reference
rows P6 (also from sigma = 20), P7 (late-time slopes of log xi1 and log L against log t, +1/3 and -1/3, and L xi1)
and P9 (the Appendix-B test at delta = 0.5), and xi1/xi2 for several sigma against the paper's xi1 <= (7/15) xi2
claim.
"""

from icljax.configs import _nn, apply_arg


def get_config(arg=None):
  c = _nn.base_config()
  c.name = "nn_long"
  c.d = 4
  c.N = 4
  c.model = "reduced"
  c.steps = 1_000_000
  c.log_every = 1000
  c.tau_samples = 4000
  c.reference_setting = (4, 4, 3.0, 0.05)
  c.references = ((1000, "1.323", "3.102", "0.2322", "0.417"), (10_000, "4.526", "6.009", "0.0942", "0.696"),
                  (100_000, "10.14", "14.12", "0.0415", "0.857"), (1_000_000, "21.52", "31.44", "0.01954", "0.932"))
  c.p7_references = ((100_000, "0.421"), (1_000_000, "0.421"))
  c.sigma_references = ((20.0, 0.05, 100_000, "11.42", "20.02", "0.0359", None),
                        (20.0, 0.05, 1_000_000, "22.13", "32.38", "0.0190", None))
  c.shifts = ("appendix_b:0.5",)
  c.shift_references = ((10_000, "appendix_b:0.5", "0.0259"),)
  c.test_prompts = 20_000
  c.extras = ("slopes", "sigma_ratio", "sphere")
  return apply_arg(c, arg, quick={**_nn.QUICK, "ratio_sigmas": (3.0, 10.0)})
