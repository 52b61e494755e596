"""Multiclass 1-NN: K-class softmax attention on the centred one-hot coding learns the 1-NN rule; its dynamics are
the binary ones with the clock slowed by f = (K-1)/K (Athreya & Wang 2026).

Reference: Athreya & Wang (2026), arXiv 2609.01311: Assumptions 1-2, Lemmas 1-4 and 12, Theorem 1, Corollary 1,
Section 5 and Figs. 1-6.
"""

from icljax.experiment.api import Experiment, MainJobRun
from icljax.results.nn_multiclass import checks, figures, mutants, plan, setup, tolerances

# 1e3 SGD steps (the first reference row), the flow run to 1e6 K-class steps on 16 x 25 inner products (the flow
# rows of every K, Lemma 12's disagreement), small evaluation samples.
GATE = ("nn_multiclass:steps=1000,log_every=500,tau_samples=2000,eval_prompts=2000,enum_prompts=100,"
        "lemma12_prompts=25")

EXPERIMENT = Experiment(
    name="nn_multiclass",
    title="Multiclass 1-NN: K-class softmax attention = binary dynamics at step (K-1)/K eta (Athreya & Wang 2026)",
    claim=("With the centred one-hot code, the K-class loss is (K-1)/K times the binary loss on the family "
           "diag(xi1 I, 0, -xi2) (Lemma 2), so K-class GD at step eta is binary GD at step (K-1)/K eta; the label "
           "columns never move, minibatch SGD tracks the reduced dynamics, and the argmax head agrees with the 1-NN "
           "class."),
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "sigma", "eta"),
    aggregate=figures.aggregate,
    main_job=(MainJobRun("nn_multiclass"), MainJobRun("nn_multiclass", "p4")),
    gate=GATE,
    mutants=mutants.MUTANTS,
)
