"""python -m experiments.run --config=experiments/configs/recall.py --workdir=runs/recall

Expected runtime: about 1 minute on a 2-core CPU (population, 2000 NGD steps of batch 512, H = 256).

Result 3 (Nguyen & Nguyen-Tang 2025): noisy in-context recall, V = 60 classes (tau = 59), triggers 0..4, outputs 5..8,
unseen outputs 9..58, H = 256. The default is Reparam-Linear-FA at alpha = 0.5, which reaches the Bayes risk
H(alpha) = ln 2 at a linear rate. Variants: --config.model=origin|reparam|reparam_w, --config.attention=
linear|relu|softmax, --config.kappa=0|1, --config.alpha in [0, 1), --config.M=2048 (finite sample; steps = epochs x
M / batch_size), --config.x64=True (float64; Lam_t = eta t stays exact beyond the float32 saturation).
"""

import ml_collections


def get_config():
  c = ml_collections.ConfigDict()
  c.experiment = "recall"
  c.name = "recall"
  c.model = "reparam"               # 'origin' (W, V, F), 'reparam' (lam / Lam), 'reparam_w' (full W)
  c.attention = "linear"            # 'linear', 'relu' (max(0, s + 1e-8)) or 'softmax'
  c.kappa = 1                       # 1: FF sees x_H + attention ('FA'); 0: FF sees x_H only ('F')
  c.alpha = 0.5                     # noise level in [0, 1); 0 is the noiseless task (5 triggers), > 0 one trigger
  c.eta = 0.1                       # NGD step, > 0
  c.steps = 2000                    # >= 1
  c.batch_size = 512                # >= 1
  c.M = 0                           # 0: fresh batches (population); else a finite training set of M >= batch_size
  c.seed = 0                        # >= 0
  c.log_every = 10                  # steps per metrics line, >= 1
  c.V = 60                          # classes including tau = V - 1, >= 4
  c.triggers = (0, 1, 2, 3, 4)      # token ids in 0..V-2 (noisy runs use the first only)
  c.outputs = (5, 6, 7, 8)          # training outputs, disjoint from triggers; unseen outputs = all the rest
  c.H = 256                         # context length, >= 4 (>= 6 when noisy)
  c.d = ml_collections.config_dict.placeholder(int)  # embedding dimension >= 2V; None = 2V
  c.test_size = 512                 # unseen-output test sentences, >= 1
  c.eval_size = 4096                # fresh sentences for the population loss, >= 1
  c.x64 = False                     # float64 run
  return c
