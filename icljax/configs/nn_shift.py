"""icljax-run --config=nn_shift --workdir=runs/nn_shift

Expected runtime: about 1 minute on a 2-core CPU.

Result 2 (Li et al. 2024): along reduced population GD (d=8, N=16, sigma=3, eta=0.05, 10^5 steps), test MSE against
the 1-NN label and agreement with it on shifted distributions: the Appendix-B construction (delta = 0.1, 0.5, 1.0;
the reference rows P9), clustered (von Mises-Fisher mixture) inputs, inputs near a great circle, and smooth labels; the
pointwise P11 bound holds on every prompt.
"""

from icljax.configs import _nn, apply_arg


def get_config(arg=None):
  c = _nn.base_config()
  c.name = "nn_shift"
  c.model = "reduced"
  c.steps = 100_000
  c.log_every = 1000
  c.test_prompts = 20_000
  c.shifts = ("appendix_b:0.1", "appendix_b:0.5", "appendix_b:1.0", "clustered", "low_dim", "smooth_labels")
  c.references = ((100_000, "12.42", "11.03", "0.0993", "0.684"),)
  c.shift_references = ((30_000, "appendix_b:0.1", "0.035"), (30_000, "appendix_b:0.5", "0.019"),
                        (30_000, "appendix_b:1.0", "0.0026"), (100_000, "appendix_b:0.1", "0.0047"),
                        (100_000, "appendix_b:0.5", "0.0006"), (100_000, "appendix_b:1.0", "0.0000"))
  c.noise_eta = 10.0              # the influences' step at d = 8: within 3% of eta = 0.5's (tests, notes)
  return apply_arg(c, arg, quick=_nn.QUICK)
