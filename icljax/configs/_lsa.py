"""Fields shared by every result-1 (linear self-attention) config, with their accepted ranges."""

import ml_collections
from ml_collections import config_dict

# Tiny sizes of the word 'quick' (smoke tests: the checks are not expected to pass).
QUICK = {"steps": 150, "batch_size": 512, "log_every": 50, "eval_prompts": 10_000, "theory_prompts": 10_000}
# The word 'exact': train on the exact population loss with L-BFGS in float64 (issue 13); the run name gets
# '_exact' appended. Init scale 0.5: from 0.1 the path lingers near the all-zero saddle (1900 L-BFGS steps for
# Theorem 2's Sigma instead of 300); from 1.0 it can settle in a worse basin (BUILD_NOTES).
EXACT = {"estimator": "exact", "optimizer": "lbfgs", "x64": True, "steps": 600, "log_every": 100,
         "init_scale": 0.5, "eval_prompts": 100_000, "name": lambda c: c.name + "_exact"}


def base_config() -> ml_collections.ConfigDict:
  """The isotropic Theorem-1 setting; every field commented with its accepted range."""
  c = ml_collections.ConfigDict()
  c.experiment = "lsa"
  c.name = "lsa"
  # Task (icljax.tasks.regression).
  c.d = 5                                   # covariate dimension, >= 1 (structure checks need d >= 2)
  c.n = 20                                  # in-context examples, >= 1
  c.sigma = 0.5                             # label-noise std, >= 0 (query label noisy too)
  c.spectrum = config_dict.placeholder(tuple)  # eigenvalues of Sigma (d positive numbers); None = identity
  c.rotation = "none"                       # 'none' (Sigma = diag(spectrum)) or 'random' (Haar rotation)
  c.rotation_seed = 1                       # numpy seed of the Haar rotation, >= 0
  c.prior = "identity"                      # w* ~ N(0, I) ('identity', Thm 1), N(0, Sigma^-1) ('inv_cov', Thm 2),
                                            # or N(0, U diag(prior_spectrum) U^T) ('spectrum': negative control)
  c.prior_spectrum = config_dict.placeholder(tuple)  # eigenvalues of the prior covariance (d positive numbers);
                                                     # required by prior 'spectrum', None otherwise
  c.activation = "linear"                   # targets: 'linear', or random 'relu' / 'tanh' networks (Thm 3)
  c.width = 16                              # hidden width m of the random target networks, >= 1
  # Model (icljax.models.lsa).
  c.parameterization = "full"               # 'full' (W_K, W_Q, W_V, h) or 'reduced' (w, M)
  c.normalization = "mean"                  # 'mean' (1/n), 'sum', 'mean_plus_one' (1/(n+1))
  c.include_query = False                   # query token among keys/values
  c.residual = False                        # y_hat = h^T (v_query + attention)
  c.init_scale = 0.1                        # std of the N(0, s^2) init, > 0 (all-zero is a saddle)
  # Optimisation: Adam on fresh prompts every step, warmup + cosine decay (a constant rate stalls, digest 7.3).
  c.optimizer = "adam"                      # 'adam', 'sgd' or 'lbfgs' (deterministic losses: estimator 'exact')
  c.learning_rate = 3e-3                    # peak learning rate, > 0
  c.schedule = "cosine"                     # 'cosine' (warmup + cosine decay) or 'constant'
  c.warmup_steps = 100                      # >= 0
  c.final_lr_fraction = 0.01                # final / peak learning rate, in [0, 1]
  c.steps = 3000                            # >= 1
  c.batch_size = 4096                       # fresh prompts per step (estimator 'fresh'), >= 1
  c.estimator = "fresh"                     # 'fresh' prompts every step, one 'fixed' sample, or 'exact' (no sampling)
  c.sample_size = 65536                     # prompts of the fixed sample (estimator 'fixed'), >= 1
  c.sampler = "auto"                        # prompt statistics: 'direct', 'wishart' (linear, n >= d+1) or 'auto'
  c.seed = 0                                # >= 0; init, data, evaluation and theory streams fold it in
  c.log_every = 100                         # steps per metrics line, >= 1
  c.x64 = False                             # float64 run (exact runs reach float rounding)
  # Evaluation.
  c.eval_prompts = 200_000                  # fresh prompts for the final MSE, >= 1000
  c.theory_prompts = 200_000                # prompts for Monte-Carlo theory (eta_F of tanh), >= 1000
  return c
