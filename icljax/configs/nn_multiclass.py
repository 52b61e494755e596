"""icljax-run --config=nn_multiclass --workdir=runs/nn_multiclass

Expected runtime: about 1 minute on a 2-core CPU.

Multiclass 1-NN (Athreya & Wang 2026) at the paper's setting (d=8, N=16, K=3, sigma=3, eta=0.05, minibatch SGD of
128 prompts): 8 full-W SGD chains and the K-class reduced population system on 8 samples to 10^4 steps; the reduced
flow to 10^6 K-class steps for K = 2, 3, 5, 10 (one binary run read at f eta t), Lemma 12 from its sigma threshold;
Lemma 2 and the codings by exact enumeration (d = N = 4). Variant ``p4``: the chains under the class law
(0.5, 0.3, 0.2) with codes re-centred at it (Lemma 2's factor 1 - sum p^2 = 0.62); ``unit``: unit-norm simplex
codes (factor 1).
"""

import ml_collections

from icljax.configs import apply_arg

QUICK = {"steps": 200, "log_every": 50, "replicas": 2, "tau_samples": 500, "eval_prompts": 1000, "enum_prompts": 50,
         "lemma12_steps": 0}
# Lemma 2 off the paper's coding: the same chains, 2000 steps, no enumeration (the default run's) and no flow run.
_CODES = {"steps": 2000, "log_every": 500, "tau_samples": 4000, "eval_prompts": 5000, "enum_prompts": 0,
          "lemma12_steps": 0}
VARIANTS = {"p4": {**_CODES, "name": "nn_multiclass_p4", "class_probs": (0.5, 0.3, 0.2), "coding": "recentred"},
            "unit": {**_CODES, "name": "nn_multiclass_unit", "coding": "unit"}}


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.experiment = "nn_multiclass"
  c.name = "nn_multiclass"
  c.d = 8                         # input dimension, >= 2
  c.N = 16                        # context examples, >= 1
  c.K = 3                         # classes, 2..12
  c.class_probs = ()              # class law: () uniform (the paper's), or K positive numbers summing to 1
  c.sigma = 3.0                   # W_0 = diag(0, 0_K, -sigma), > 0
  c.eta = 0.05                    # SGD/GD step on W (xi1 moves by eta/d), > 0
  c.steps = 10_000                # >= 1
  c.seed = 0                      # >= 0
  c.log_every = 100               # steps per metrics line, >= 1
  c.init = "paper"                # 'paper' (W_0) or 'random' (W_0 + N(0, init_scale^2) on every entry)
  c.init_scale = 0.0              # >= 0
  c.coding = "centred"            # chains' codes: 'centred' (e_c - 1/K, the paper's), 'recentred' (e_c - p), 'unit'
  #                                 (unit-norm simplex) or 'onehot' (e_c: no Lemma-2 factor)
  c.replicas = 8                  # independent SGD chains and population samples (standard errors, t-factors), >= 2
  c.batch_size = 128              # fresh prompts per SGD step and chain, >= 1
  c.tau_samples = 8000            # prompts per population sample of the reduced system, >= 100
  c.eval_prompts = 20_000         # fresh prompts for the loss, accuracy and P2/P10 checks, >= 1
  c.enum_prompts = 500            # prompts of the exact label enumeration (d = N = 4), >= 0 (0: none)
  # The reduced flow run: binary population GD from (0, sigma) (and from Lemma 12's sigma threshold,
  # xi1 <= 7/15 xi2 for sigma >= 3 log(2N^4 d/a_{N,d})), read at f eta t for lemma12_steps K-class steps of every K
  # of the flow rows (K-class GD at eta is binary GD at f eta, Lemma 2): the flow rows for K = 2, 3, 5, 10, Lemma 12
  # and the late-time rate against Fig. 1's "logarithmic rate". 0 turns it off.
  c.lemma12_steps = 1_000_000     # >= 0
  c.lemma12_prompts = 250         # inner products per replica of that run, >= 20
  c.flow_replicas = 16            # its independent inner-product samples (standard errors), >= 2
  # Reference rows apply only to the setting they were computed for and up to the run's last step.
  c.reference_setting = (8, 16, 3, 3.0, 0.05)   # (d, N, K, sigma, eta) of the rows below
  c.references = ((1000, 0.1586, 3.0004, 0.3085, None), (5000, 0.8536, 3.0143, 0.2891, None),
                  (10_000, 1.849, 3.108, 0.2574, 0.642))   # K = 3: (t, xi1, xi2, L_MC, accuracy) of an independent
  #                                   float64 RK45 computation of the reduced flow (20000 prompts; the docs page)
  return apply_arg(c, arg, quick=QUICK, variants=VARIANTS)
