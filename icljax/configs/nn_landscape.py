"""icljax-run --config=nn_landscape --workdir=runs/nn_landscape

Expected runtime: about 30 seconds on a 2-core CPU.

Result 2 (Li et al. 2024, Fig. 2): the loss landscape L(xi1, xi2) for d = N = 4 (nonconvex: indefinite Hessian at
(0, 0)), with the reduced GD trajectory (sigma=3, eta=0.05, 10^5 steps) drawn on it; the reference values P1 and P10.
"""

from icljax.configs import _nn, apply_arg


def get_config(arg=None):
  c = _nn.base_config()
  c.name = "nn_landscape"
  c.d = 4
  c.N = 4
  c.model = "reduced"
  c.steps = 100_000
  c.log_every = 500
  c.tau_samples = 20_000
  c.extras = ("landscape",)
  c.reference_setting = (4, 4, 3.0, 0.05)
  c.landscape_references = (((4.0, 4.0), "0.120"), ((8.0, 8.0), "0.069"), ((10.0, 15.0), "0.041"),
                            ((15.0, 20.0), "0.029"))
  c.hessian_references = (((0.0, 0.0), "-0.0053"), ((0.0, -3.0), "-0.0150"))
  return apply_arg(c, arg, quick={**_nn.QUICK, "landscape_points": 11})
