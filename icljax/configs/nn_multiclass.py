"""icljax-run --config=nn_multiclass --workdir=runs/nn_multiclass

Expected runtime: about 1 minute on a 2-core CPU.

Multiclass 1-NN (Athreya & Wang 2026) at the paper's setting (d=8, N=16, K=3, sigma=3, eta=0.05, minibatch SGD of
128 prompts): 8 full-W SGD chains, the K-class reduced population system on 8 samples, and the binary one at step
f eta, to 10^4 steps; Lemma 2 by exact enumeration (d = N = 4), the one-hot failure (P4), P2, P6, P7, P9-P11.
Fields as ``nn_dynamics`` plus ``K``.
"""

import ml_collections

from icljax.configs import apply_arg

QUICK = {"steps": 200, "log_every": 50, "replicas": 2, "tau_samples": 500, "eval_prompts": 1000, "enum_prompts": 50,
         "lemma12_steps": 0}


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.experiment = "nn_multiclass"
  c.name = "nn_multiclass"
  c.d = 8                         # input dimension, >= 2
  c.N = 16                        # context examples, >= 1
  c.K = 3                         # classes, 2..12
  c.sigma = 3.0                   # W_0 = diag(0, 0_K, -sigma), > 0
  c.eta = 0.05                    # SGD/GD step on W (xi1 moves by eta/d), > 0
  c.steps = 10_000                # >= 1
  c.seed = 0                      # >= 0
  c.log_every = 100               # steps per metrics line, >= 1
  c.init = "paper"                # 'paper' (W_0) or 'random' (W_0 + N(0, init_scale^2) on every entry)
  c.init_scale = 0.0              # >= 0
  c.coding = "centred"            # labels of the SGD chains: 'centred' (e_c - 1/K, the paper's) or 'onehot'
  c.replicas = 8                  # independent SGD chains and population samples (standard errors, t-factors), >= 2
  c.batch_size = 128              # fresh prompts per SGD step and chain, >= 1
  c.tau_samples = 8000            # prompts per population sample of the reduced systems, >= 100
  c.eval_prompts = 20_000         # fresh prompts for the loss, accuracy and P2/P10 checks, >= 1
  c.enum_prompts = 500            # prompts of the exact label enumeration (d = N = 4), >= 1
  # Lemma 12 (xi1 <= 7/15 xi2 for sigma >= 3 log(2N^4 d/a_{N,d})): reduced K-class GD from sigma at that threshold
  # for lemma12_steps steps of the run's eta (run as binary GD with eta t held, P7/P8); over the same horizon from the
  # run's own sigma, the late-time rate against Fig. 1's "logarithmic rate". 0 turns both off.
  c.lemma12_steps = 1_000_000     # >= 0
  c.lemma12_prompts = 2000        # inner-product sample of that run, >= 100
  # Digest rows apply only to the setting they were computed for and up to the run's last step.
  c.reference_setting = (8, 16, 3, 3.0, 0.05)   # (d, N, K, sigma, eta) of the rows below
  c.references = ((1000, 0.1586, 3.0004, 0.3085, None), (5000, 0.8536, 3.0143, 0.2891, None),
                  (10_000, 1.849, 3.108, 0.2574, 0.642))   # digest P7/P11: (t, xi1, xi2, L_MC, accuracy)
  return apply_arg(c, arg, quick=QUICK)
