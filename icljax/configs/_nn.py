"""Fields shared by every result-2 (softmax attention learns 1-NN) config, with their accepted ranges."""

import ml_collections

# Tiny sizes of the word 'quick' (smoke tests: the checks are not expected to pass).
QUICK = {"steps": 200, "log_every": 50, "sample_size": 2, "tau_samples": 500, "eval_tau_samples": 1000,
         "test_prompts": 100}


def base_config() -> ml_collections.ConfigDict:
  """The paper's setting d = 8, N = 16, sigma = 3, eta = 0.05; every field commented with its accepted range."""
  c = ml_collections.ConfigDict()
  c.experiment = "nn"
  c.name = "nn"
  c.d = 8                         # input dimension, >= 2 (inputs uniform on S^{d-1})
  c.N = 16                        # context examples, >= 1
  c.sigma = 3.0                   # W_0 = diag(0, 0, -sigma), > 0
  c.eta = 0.05                    # GD step on W (xi1 moves by eta/d), > 0
  c.steps = 10_000                # >= 1
  c.seed = 0                      # >= 0
  c.log_every = 100               # steps per metrics line, >= 1
  c.labels = "rademacher"         # training labels: 'rademacher' or 'gaussian'
  c.model = "reduced"             # 'reduced' (xi), 'full' (W) or 'both' (W, xi on the same prompts, population xi)
  c.estimator = "symmetrized"     # full W: 'symmetrized' fixed sample (a) or 'sgd' fresh minibatches (c)
  c.init = "paper"                # 'paper' (W_0) or 'random' (W_0 + N(0, init_scale^2) noise)
  c.init_scale = 0.0              # >= 0, only for init='random'
  c.sample_size = 64              # prompts before symmetrisation (x d 2^m 2 images), >= 1
  c.batch_size = 128              # fresh prompts per SGD step (estimator 'sgd'), >= 1
  c.tau_samples = 8000            # prompts of the reduced population estimator (b), >= 100
  c.eval_tau_samples = 100_000    # fresh prompts on which the population loss and E[q] are reported, >= 100
  # Shifted test distributions: 'appendix_b:<delta>', 'clustered', 'low_dim', 'smooth_labels'.
  c.shifts = ()
  c.R = 3.0                       # label bound of Assumption 3, > 0
  c.test_prompts = 2000           # prompts per shifted test set, >= 1
  # Rows of the independent reference computation (float64 population GD on 8000 prompts; the theorem's docs page,
  # P6/P7/P9/P10) apply only to the setting they were computed for and up to the run's last step; otherwise they
  # are skipped with a note. Values as printed (strings): the last printed decimal gives their rounding.
  c.reference_setting = (8, 16, 3.0, 0.05)   # (d, N, sigma, eta) of the rows below
  c.references = ()               # P6 rows (t, xi1, xi2, L, E[q_i*]); None where unknown
  c.shift_references = ()         # P9 rows (t, shift, MSE)
  c.p7_references = ()            # P7 rows (t, L xi1)
  c.sigma_references = ()         # P6 rows of the sigma_ratio runs (sigma, eta, t, xi1, xi2, L, E[q_i*]) at the
                                  # reference setting's d, N
  c.noise_eta = 5.0               # step of the influence recursion giving the rows' error bars, > 0
  c.extras = ()                   # 'slopes' (P7), 'sigma_ratio', 'landscape', 'sphere' (sphere lemmas, P5),
                                  # 'ensemble' (full-W vs population over 64 seeds' samples)
  c.ratio_sigmas = (3.0, 10.0, 20.0, 40.0)
  c.ratio_eta = 0.5               # step of the sigma_ratio runs (the trajectory depends on eta * t only, P8)
  c.ratio_horizon = 0.0           # eta * t of the sigma_ratio runs, >= 0; 0 = the run's own eta * steps
  c.landscape_xi1 = (0.0, 20.0)
  c.landscape_xi2 = (-5.0, 20.0)
  c.landscape_points = 51
  c.landscape_references = ()     # P10 values ((xi1, xi2), L) at d = N = 4
  c.hessian_references = ()       # P10 smallest Hessian eigenvalues ((xi1, xi2), value) at d = N = 4
  return c
