"""icljax-run --config=nn_fixed_data --workdir=runs/nn_fixed_data

Expected runtime: about 20 seconds on a 2-core CPU.

Result 2, the paper's Fig. 3 setting (Li et al. 2024): full-W minibatch SGD on a fixed data set of 10^4 prompts per
chain, from a random initialisation (W_0 + N(0, 1) on every entry), 8 independent chains (each its own data set and
initialisation) beside the reduced population system from each chain's projected start, each on its own sample of
inner products. The training loss on the data set, the MSE on the Appendix-B shifted test set and the distance of
(xi1, xi2) from the population system are logged along the run. Variants: ``d4n4`` (d = N = 4), ``d8n8``
(d = N = 8), ``w0`` (the paper's W_0, no noise: Assumption 2's start on a finite data set).
"""

import ml_collections

from icljax.configs import apply_arg

QUICK = {"steps": 100, "log_every": 50, "replicas": 2, "dataset_size": 512, "tau_samples": 500,
         "test_prompts": 200}


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.experiment = "nn_fixed_data"
  c.name = "nn_fixed_data"
  c.d = 8                         # input dimension, >= 2 (inputs uniform on S^{d-1})
  c.N = 16                        # context examples, >= 1
  c.sigma = 3.0                   # W_0 = diag(0, 0, -sigma), > 0
  c.init = "random"               # 'paper' (W_0) or 'random' (W_0 + N(0, init_scale^2) on every entry)
  c.init_scale = 1.0              # >= 0, only for init='random'
  # Step on W (xi1 moves by eta/d), > 0. The paper's step is not recovered; 0.5 x 2000 steps covers eta t = 1000,
  # 2e4 steps of the reference computation's 0.05 (the population trajectory depends on eta t only, P8).
  c.eta = 0.5
  c.steps = 2000                  # >= 1 (25.6 epochs of 1e4 prompts at batch 128)
  c.seed = 0                      # >= 0
  c.log_every = 50                # steps per metrics line, >= 1
  c.replicas = 8                  # independent chains (data set, initialisation, population sample), >= 2
  c.dataset_size = 10_000         # prompts per chain's fixed data set (the paper's 1e4), >= batch_size
  c.batch_size = 128              # prompts per SGD step, drawn with replacement from the data set, >= 1
  c.tau_samples = 8000            # inner-product sample of each chain's population system, >= 100
  c.shift = "appendix_b:0.5"      # shifted test distribution ('appendix_b:<delta>', 'clustered', 'low_dim', ...)
  c.R = 3.0                       # label bound of Assumption 3 (test labels), > 0
  c.test_prompts = 2000           # prompts of the shifted test set, >= 1
  # P6 rows of the reference computation (float64 population GD on 8000 prompts, the theorem's docs page) against the
  # population systems from W_0: ((d, N, sigma, eta), t, xi1, xi2), read at this run's step t eta / config.eta.
  c.references = (((8, 16, 3.0, 0.05), 10_000, "2.881", "3.400"), ((4, 4, 3.0, 0.05), 1000, "1.323", "3.102"),
                  ((4, 4, 3.0, 0.05), 10_000, "4.526", "6.009"))
  variants = {"d4n4": {"name": "nn_fixed_data_d4n4", "d": 4, "N": 4},
              "d8n8": {"name": "nn_fixed_data_d8n8", "d": 8, "N": 8},
              "w0": {"name": "nn_fixed_data_w0", "init": "paper", "init_scale": 0.0}}
  return apply_arg(c, arg, quick=QUICK, variants=variants)
