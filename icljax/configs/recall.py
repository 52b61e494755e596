"""icljax-run --config=recall --workdir=runs/recall

Expected runtime: about 1 minute on a 2-core CPU (population, 2000 NGD steps of batch 512, H = 256).

Result 3 (Nguyen & Nguyen-Tang 2025): noisy in-context recall, V = 60 classes (tau = 59), triggers 0..4, outputs
5..8, unseen outputs 9..58, H = 256. The default is Reparam-Linear-FA at alpha = 0.5, which reaches the Bayes risk
H(alpha) = ln 2 at a linear rate. Named variants (--config=recall:<variant>) are the main job's runs: the paper's
Fig. 1 models at alpha = 0 and 0.5 (e.g. ``origin_softmax_F_a0``), alpha = 0.2 / 0.8 (Reparam-Linear/ReLU-FA,
Reparam-W and Origin Linear-FA), ReLU, kappa = 0, float64
(``reparam_linear_FA_a0.5_float64``) and the finite-sample Fig. 2 runs (``finite_reparam_w_relu_FA``). Fields:
--config.model=origin|reparam|reparam_w, --config.attention=linear|relu|softmax, --config.kappa=0|1,
--config.alpha in [0, 1), --config.M=2048 (finite sample; steps = epochs x M / batch_size), --config.x64=True.
"""

import ml_collections

from icljax.configs import apply_arg

QUICK = {"steps": 20, "log_every": 10, "H": 32, "batch_size": 64, "eval_size": 256, "test_size": 64}
_FIG1 = (("reparam", "linear", 1), ("reparam", "softmax", 1), ("reparam_w", "linear", 1), ("origin", "linear", 1),
         ("origin", "softmax", 0), ("origin", "linear", 0))   # the last: P10's plateau (never uses attention)


FIGURE: dict[str, str] = {}        # variant -> the paper figure it is drawn in (the main job's result figures)


def _variants() -> dict[str, dict]:
  out = {}
  for alpha in (0.0, 0.5):          # paper Fig. 1 (noiseless and noisy rows)
    for model, attention, kappa in _FIG1:
      name = f"{model}_{attention}_{'FA' if kappa else 'F'}_a{alpha:g}"
      out[name] = dict(model=model, attention=attention, kappa=kappa, alpha=alpha)
      FIGURE[name] = "fig1_noisy" if alpha else "fig1_noiseless"
  for alpha in (0.2, 0.8):   # other noise levels (appendix Figs 3-9), one result figure per alpha
    for attention in ("linear", "relu"):
      out[f"reparam_{attention}_FA_a{alpha:g}"] = dict(attention=attention, alpha=alpha, steps=1000)
      FIGURE[f"reparam_{attention}_FA_a{alpha:g}"] = f"noisy_a{alpha:g}"
    for model in ("reparam_w", "origin"):   # the unconstrained models at these alphas (issue 12)
      out[f"{model}_linear_FA_a{alpha:g}"] = dict(model=model, alpha=alpha)
      FIGURE[f"{model}_linear_FA_a{alpha:g}"] = f"noisy_a{alpha:g}"
  out["reparam_relu_FA_a0.5"] = dict(attention="relu", steps=1000)
  out["reparam_linear_F_a0.5"] = dict(kappa=0, steps=1000, log_every=5)   # P9's tail mean: 100 logged Lam
  out["reparam_linear_FA_a0.5_float64"] = dict(x64=True, steps=600)
  for model in ("reparam", "reparam_w", "origin"):   # paper Fig. 2 (finite sample)
    out[f"finite_{model}_relu_FA"] = dict(model=model, attention="relu", M=2048, steps=400, log_every=10, eta=0.05)
    FIGURE[f"finite_{model}_relu_FA"] = "fig2_finite"
  return {k: {**v, "name": f"recall_{k}"} for k, v in out.items()}


VARIANTS = _variants()


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.experiment = "recall"
  c.name = "recall_reparam_linear_FA_a0.5"
  c.model = "reparam"               # 'origin' (W, V, F), 'reparam' (lam / Lam), 'reparam_w' (full W)
  c.attention = "linear"            # 'linear', 'relu' (max(0, s + 1e-8)) or 'softmax'
  c.kappa = 1                       # 1: FF sees x_H + attention ('FA'); 0: FF sees x_H only ('F')
  c.alpha = 0.5                     # noise level in [0, 1); 0 is the noiseless task (5 triggers), > 0 one trigger
  c.eta = 0.1                       # NGD step, > 0
  c.steps = 2000                    # >= 1
  c.batch_size = 512                # >= 1
  c.M = 0                           # 0: fresh batches (population); else a finite training set of M >= batch_size
  c.seed = 0                        # >= 0
  c.log_every = 25                  # steps per metrics line, >= 1 (each logs the loss on eval_size + test_size)
  c.V = 60                          # classes including tau = V - 1, >= 4
  c.triggers = (0, 1, 2, 3, 4)      # token ids in 0..V-2 (noisy runs use the first only)
  c.outputs = (5, 6, 7, 8)          # training outputs, disjoint from triggers; unseen outputs = all the rest
  c.H = 256                         # context length, >= 4 (>= 6 when noisy)
  c.d = ml_collections.config_dict.placeholder(int)  # embedding dimension >= 2V; None = 2V
  c.test_size = 512                 # unseen-output test sentences, >= 1
  c.eval_size = 4096                # fresh sentences for the population loss, >= 1
  c.x64 = False                     # float64 run
  return apply_arg(c, arg, quick=QUICK, variants=VARIANTS)
