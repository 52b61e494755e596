"""icljax-run --config=lsa_chain_of_thought --workdir=runs/lsa_chain_of_thought

Expected runtime: well under a minute on a 2-core CPU.

Chain of thought (Huang, Wang, Lee 2025): one-layer linear attention predicts w* of a noiseless in-context linear
regression (x ~ N(0, I), w* ~ N(0, I), d = 5, n = 20, no query), trained teacher-forced on k = 5 steps of GD with
eta = 0.5 (stable: eta lambda_max(S) < 2 on practically every prompt); generated autoregressively for 20 steps
and scored against the GD iterates and w*. Beside it, the same model without chain of thought, trained on
|w_hat - w*|^2: one GD step at n/(n + d + 1). Variants: ``dense`` (full V and W from a random initialisation),
``paper_dims`` (the paper's d = 10, n = 20, k = 10, where GD's error is heavy-tailed).
"""

import ml_collections

from icljax.configs import apply_arg

QUICK = {"steps": 200, "log_every": 50, "batch_size": 64, "eval_prompts": 2000, "eval_steps": 8}
VARIANTS = {
    "dense": {"name": "lsa_chain_of_thought_dense", "parameterization": "dense", "init_scale": 0.1,
              "steps": 6000, "learning_rate": 0.01},
    "paper_dims": {"name": "lsa_chain_of_thought_paper_dims", "d": 10, "cot_steps": 10, "eval_steps": 20,
                   "ood_spectrum": (), "learning_rate": 0.003, "steps": 3000},
}


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.experiment = "lsa_chain_of_thought"
  c.name = "lsa_chain_of_thought"
  c.d = 5                         # dimension of x and w*, 1..16
  c.n = 20                        # examples per prompt, >= 1
  c.eta = 0.5                     # step of the GD targets, in (0, 2)
  c.cot_steps = 5                 # k, chain-of-thought steps in the teacher-forced loss, 1..32
  c.eval_steps = 20               # steps generated autoregressively at evaluation, cot_steps..64
  c.parameterization = "sparse"   # 'sparse' (V_31, W_13 trained; W_24 = -1) or 'dense' (full V, W)
  c.init_scale = 0.1              # sparse: V_31 = -s I, W_13 = s I; dense: entries N(0, s^2); > 0
  c.steps = 2000                  # optimiser steps, >= 1
  c.seed = 0                      # >= 0
  c.log_every = 50                # steps per metrics line, >= 1
  c.optimizer = "adam"            # 'adam' or 'sgd' (fresh batches every step)
  c.learning_rate = 0.01          # peak step, > 0
  c.schedule = "cosine"           # 'cosine' (warmup + cosine decay) or 'constant'
  c.warmup_steps = 0              # >= 0
  c.final_lr_fraction = 0.01      # in [0, 1]
  c.batch_size = 256              # fresh prompts per step, >= 1
  c.eval_prompts = 20_000         # fresh prompts of every evaluation mean, >= 1
  c.ood_spectrum = (1.0, 1.0, 0.25, 0.0625, 1.0)   # eigenvalues of the out-of-distribution Sigma (d numbers), or ()
  return apply_arg(c, arg, quick=QUICK, variants=VARIANTS)
