"""One package per theorem: each builds an ``icljax.experiment.Experiment`` (setup, plan, checks with its
tolerance table, figures) and needs nothing else of the infrastructure.

* ``lsa``: one-layer linear self-attention = one step of (preconditioned) GD (Mahankali et al. 2023);
* ``nn``: softmax attention learns one-nearest-neighbour (Li et al. 2024);
* ``nn_fixed_data``: the same in the paper's Fig. 3 setting, full-W SGD on a fixed data set from a random
  initialisation, against the population system;
* ``recall``: one-layer attention is Bayes-optimal for noisy in-context recall (Nguyen & Nguyen-Tang 2025);
* ``nn_multiclass``: K-class softmax attention learns 1-NN, binary dynamics at step (K-1)/K eta (Athreya & Wang
  2026);
* ``lsa_multilayer``: L-layer linear attention = L steps of preconditioned GD (Ahn et al. 2023);
* ``linattn_dynamics``: linear-attention training dynamics, one drop or a staircase of PCR plateaus (Zhang et al.
  2025);
* ``lsa_chain_of_thought``: linear attention with chain of thought runs multi-step GD, without it one step (Huang
  et al. 2025).
"""

from icljax.experiment import registry
from icljax.results import (
    icl_denoising,
    linattn_dynamics,
    lsa,
    lsa_chain_of_thought,
    lsa_multilayer,
    nn,
    nn_fixed_data,
    nn_multiclass,
    recall,
    softmax_as_linear,
)

BUILTIN = (lsa.EXPERIMENT, nn.EXPERIMENT, nn_fixed_data.EXPERIMENT, recall.EXPERIMENT, nn_multiclass.EXPERIMENT,
           lsa_multilayer.EXPERIMENT,
           linattn_dynamics.EXPERIMENT, lsa_chain_of_thought.EXPERIMENT, icl_denoising.EXPERIMENT,
           softmax_as_linear.EXPERIMENT)
for _experiment in BUILTIN:
  registry.register(_experiment)

__all__ = ["BUILTIN", "linattn_dynamics", "lsa", "lsa_chain_of_thought", "lsa_multilayer", "nn", "nn_fixed_data",
           "nn_multiclass", "recall"]
