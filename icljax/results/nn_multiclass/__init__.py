"""Multiclass 1-NN: K-class softmax attention on the centred one-hot coding learns the 1-NN rule; its dynamics are
the binary ones with the clock slowed by f = (K-1)/K (Athreya & Wang 2026).

Reference: Athreya & Wang (2026), arXiv 2609.01311; digest ``athreya_2609.01311.md`` (P1-P14).
"""

from icljax.experiment.api import Experiment, MainJobRun
from icljax.results.nn_multiclass import checks, figures, plan, setup, tolerances

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
    main_job=(MainJobRun("nn_multiclass"),),
    gate='nn_multiclass:steps=1000,tau_samples=2000,eval_prompts=5000,enum_prompts=200,lemma12_prompts=200',
)
