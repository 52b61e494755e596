"""icljax-run --config=lsa_multilayer --workdir=runs/lsa_multilayer

Expected runtime: about 1 minute on a 2-core CPU.

Several layers (Ahn et al. 2023, Theorem 3): a 3-layer linear transformer with B_l = 0 on noiseless in-context
regression, d = 5, n = 20, x ~ N(0, Sigma) with eigenvalues (1, 1, 0.25, 0.0625, 1) in a random basis, w* ~
N(0, Sigma^-1), trained with L-BFGS on one sample of 200000 prompts (the authors' L-BFGS protocol used 20000);
against the best 3-step PGD (exact Wishart moments). Variant ``with_b`` (Theorem 4): the layers' B_l blocks are
trained too (L = 2, L-BFGS on 100000 prompts), against the best member of Theorem 4's family A_l = a_l Sigma^-1,
B_l = b_l I found by SAA in the run (about 1.5 minutes; ``with_b,L=3,sample_size=200000,steps=2000`` is the
digest's P7 setting, about 15 minutes). Variant ``L4``: four layers (the best 4-step PGD, about 1.5 minutes).
"""

import ml_collections

from icljax.configs import apply_arg

QUICK = {"steps": 100, "log_every": 50, "sample_size": 2000, "eval_prompts": 2000, "noise_prompts": 10_000}
VARIANTS = {"with_b": {"name": "lsa_multilayer_with_b", "layer_class": "with_b", "L": 2, "sample_size": 100_000,
                      "steps": 400, "log_every": 50},
            "L4": {"name": "lsa_multilayer_L4", "L": 4}}   # four layers (Wishart moments to order 8, ~10 s)


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.experiment = "lsa_multilayer"
  c.name = "lsa_multilayer"
  c.d = 5                         # dimension, >= 1
  c.n = 20                        # context examples, >= 1
  c.L = 3                         # layers, 1..4 (the exact optimum needs Wishart moments up to order 2L)
  c.layer_class = "sparse"        # 'sparse' (B_l = 0, Theorem 3) or 'with_b' (B_l trained, Theorem 4)
  c.spectrum = (1.0, 1.0, 0.25, 0.0625, 1.0)   # eigenvalues of Sigma (d positive numbers), the authors' D^2
  c.rotation = "random"           # 'none' or 'random' (Haar basis; the theory is rotation-invariant)
  c.rotation_seed = 1             # >= 0
  c.steps = 200                   # optimiser steps, >= 1 (L-BFGS has converged by ~150)
  c.seed = 0                      # >= 0
  c.log_every = 25                # steps per metrics line, >= 1
  c.optimizer = "lbfgs"           # 'lbfgs' (needs sample_size >= 1), 'adam' or 'sgd'
  c.learning_rate = 0.01          # peak step of adam/sgd, > 0 (L-BFGS uses its line search)
  c.schedule = "cosine"           # 'cosine' (warmup + cosine decay) or 'constant'
  c.warmup_steps = 0              # >= 0
  c.final_lr_fraction = 0.01      # in [0, 1]
  c.sample_size = 200_000         # 0: fresh batches of batch_size per step; > 0: one fixed sample (L-BFGS)
  c.batch_size = 4096             # fresh prompts per step when sample_size = 0, >= 1
  c.init_scale = 0.1              # std of the entries of A_l at init, > 0 (the authors: 1e-4; BUILD_NOTES)
  c.eval_prompts = 200_000        # fresh prompts for the eval MSE, >= 1
  c.noise_prompts = 100_000       # fresh prompts estimating the trained layers' sampling noise at the theory's
                                  # point (the isotropy checks' tolerances), a multiple of 1000, >= 1000
  return apply_arg(c, arg, quick=QUICK, variants=VARIANTS)
