"""icljax-run --config=softmax_as_linear --workdir=runs/softmax_as_linear

Expected runtime: about 20 seconds on a 2-core CPU (18 CPU-seconds with a warm compilation cache, 34 cold).

Boursier & Boyer (2025), "Softmax as linear attention in the large-prompt regime" (arXiv 2512.11784): x ~ N(0, I_5),
w ~ N(0, I), noiseless labels, L = 256 tokens per prompt. The run checks Lemma 2.1 (the Gaussian attention operator
is linear: at 1e5 tokens and by quadrature), the 1/L concentration of the finite-prompt operator (its slope and
constant, the slower heavy-tail regime, the L = 1 boundary of Prop. 3.1), gradient descent on the infinite-prompt
risk to Thm 5.1's balanced end point, and the softmax layer trained at L = 256 (L-BFGS on 4096 fixed prompts)
against its exact finite-L optimum (t_L = 0.1506, b a = 0.9450, L excess = 84.99) and the first-order forms
(t* = 0.1228, 1 - kappa/L with kappa = 16.47, F(t*) = 95.78; the exact optimum at L = 2^16 against them), beside
linear attention at the same L (b a = 256/262, L excess 29.3).
Argument: 'quick' (tiny sizes), a named variant (below) and/or 'field=value' words, e.g.
--config=softmax_as_linear:L=1024,train_prompts=1024.

Variants: 'gate' (the CI science gate: L = 64, smaller sizes, 12 CPU-seconds), 'L64' / 'L1024' (other prompt
lengths), 'noisy' (sigma^2 = 0.1), 'toeplitz' (Sigma = rho^|i-j|, rho = 0.5: the O(1/L) shape of b A along
Sigma^-1), 'uniform' / 'rademacher' (the non-Gaussian negative controls, d = 2), 'two_scales' (plain GD from a small
balanced init at d = 2: the fast phase and the slow drift), 'official_bug' (the authors' sampler with its bug, at
their scale: d = 5, Toeplitz 0.5, w ~ N(0, I/5), sigma^2 = 0.1, L = 1000).
"""

import ml_collections

from icljax.configs import apply_arg

QUICK = {"steps": 40, "log_every": 20, "train_prompts": 256, "test_prompts": 2000, "sandwich_prompts": 256,
         "operator_tokens": 20_000, "concentration_pairs": 2**14, "concentration_L": (1, 16, 64)}
# The archive variants at the key run's Sigma and token law skip the operator and concentration checks (the same
# numbers as the key run's: they do not depend on L, sigma or the optimiser).
_TRAINED_ONLY = {"operator_tokens": 0, "concentration_L": ()}
VARIANTS = {
    "gate": {"L": 64, "train_prompts": 2048, "test_prompts": 20_000, "sandwich_prompts": 2048,
             "operator_tokens": 100_000, "concentration_L": (1, 64, 256), "concentration_pairs": 2**18,
             "concentration_lambdas": (0.05,),
             "name": "softmax_as_linear_gate"},
    "L64": {"L": 64, "train_prompts": 16384, "name": "softmax_as_linear_L64", **_TRAINED_ONLY},
    "L1024": {"L": 1024, "train_prompts": 1024, "name": "softmax_as_linear_L1024", **_TRAINED_ONLY},
    "noisy": {"sigma": 0.1**0.5, "name": "softmax_as_linear_noisy", **_TRAINED_ONLY},
    "toeplitz": {"covariance": "toeplitz", "steps": 120, "name": "softmax_as_linear_toeplitz"},
    "uniform": {"tokens": "uniform", "d": 2, "population": False, "name": "softmax_as_linear_uniform"},
    "rademacher": {"tokens": "rademacher", "d": 2, "population": False, "name": "softmax_as_linear_rademacher"},
    "two_scales": {"d": 2, "optimizer": "sgd", "schedule": "constant", "learning_rate": 0.2, "population_lr": 0.2,
                   "population_substeps": 1, "steps": 1500, "log_every": 5, "linear": False, "train_prompts": 2048,
                   "concentration_L": (), "name": "softmax_as_linear_two_scales"},
    "official_bug": {"covariance": "toeplitz", "prior_var": 0.2, "sigma": 0.1**0.5, "data_bug": True, "L": 1000,
                     "train_prompts": 1024, "steps": 300, "population_lr": 0.05,
                     "name": "softmax_as_linear_official_bug"},
}


def get_config(arg=None):
  """The default run; every field commented with its accepted range.

  Args:
    arg: 'quick', a variant name and/or 'field=value' words, comma-separated.

  Returns:
    The config.
  """
  c = ml_collections.ConfigDict()
  c.experiment = "softmax_as_linear"
  c.name = "softmax_as_linear"
  # Task (icljax.tasks.softmax_as_linear).
  c.d = 5                        # token dimension, >= 1
  c.L = 256                      # tokens per prompt of the trained finite-L layers, >= 2
  c.sigma = 0.0                  # label-noise standard deviation, >= 0 (context labels and the target)
  c.tokens = "gaussian"          # coordinate law: 'gaussian' (Lemma 2.1), 'uniform' or 'rademacher' (controls)
  c.covariance = "isotropic"     # Sigma = scale^2 I ('isotropic') or scale^2 rho^|i-j| ('toeplitz')
  c.rho = 0.5                    # Toeplitz correlation, in (-1, 1)
  c.scale = 1.0                  # token standard deviation, > 0
  c.prior_var = 1.0              # variance s_w of each coordinate of w, > 0 (the authors' code: 1/d)
  c.data_bug = False             # the authors' sampler (context R Sigma R^T, query N(0, I)): True or False
  # Layers and training: the finite-L layers on one fixed sample (full-batch steps).
  c.linear = True                # also train linear attention at the same L, same prompts and init: True/False
  c.population = True            # also train the L = inf layer on R_inf by plain GD: True or False
  c.population_lr = 0.01         # GD step of the L = inf layer, > 0 (stable below 2 / the largest curvature of
                                 # R_inf at its end point: 4.47 for Sigma = I_5, 46.1 for Toeplitz 0.5, d = 5)
  c.population_substeps = 200    # GD steps of the L = inf layer per training step, >= 1 (1 with 'sgd': lockstep)
  c.init_alpha = 0.1             # balanced initialisation scale of Eq. (9), > 0
  c.estimator = "marginal"       # 'marginal' (w and noise integrated per prompt) or 'prompts' (sampled labels)
  c.train_prompts = 4096         # prompts of the fixed training sample, >= 1
  c.optimizer = "lbfgs"          # 'lbfgs' (the sample is fixed: a deterministic loss), 'adam' or 'sgd' (finite-L
                                 # layers; the L = inf layer always takes plain GD steps of population_lr)
  c.learning_rate = 0.02         # peak learning rate of 'adam' / 'sgd', > 0 (L-BFGS's line search ignores it)
  c.schedule = "cosine"          # 'cosine' (warmup + cosine decay) or 'constant'
  c.warmup_steps = 20            # >= 0
  c.final_lr_fraction = 0.01     # final / peak learning rate, in [0, 1]
  c.steps = 40                   # >= 1 (L-BFGS converges in ~20; GD on R_inf needs ~300 at lr 0.1: see below)
  c.seed = 0                     # >= 0; init, sample, evaluation and theory streams fold it in
  c.log_every = 10               # steps per metrics line, >= 1
  c.x64 = False                  # float64 run: True or False
  # Evaluation.
  c.test_prompts = 20_000        # fresh prompts of the excess risks (softmax and linear paired), >= 1
  c.sandwich_prompts = 2048      # fresh prompts of the trained parameters' covariance, >= 1
  c.operator_tokens = 100_000    # tokens of the large-L operator check (Lemma 2.1), >= 0 (0: no operator checks)
  c.operator_queries = 4         # random queries of the operator check, >= 1
  c.quadrature_degree = 40       # Gauss-Hermite nodes per dimension of Lemma 2.1's quadrature, >= 1
  c.concentration_L = (1, 4, 16, 64, 256, 1024)   # prompt lengths of the concentration curves, each >= 1 (() none)
  c.concentration_lambdas = (0.05, 1.0)  # lambda_max(U^T Sigma U) of the curves (U = sqrt(lambda) Sigma^-1/2, V = I),
                                         # each > 0: < 1/6 light (constant and slope checked), > 1/2 heavy tails
  c.concentration_pairs = 2**19  # tokens per point of a curve (prompt-query pairs x L), >= 1
  return apply_arg(c, arg, quick=QUICK, variants=VARIANTS)
