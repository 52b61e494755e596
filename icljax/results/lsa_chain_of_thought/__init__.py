"""Chain of thought: one-layer linear attention that writes its own chain of thought learns to run GD with the
targets' step, and recovers w*; without chain of thought the best it can do is one GD step.

Reference: Huang, Wang, Lee (2025), arXiv 2502.21212, Theorems 3.1, 3.2 and 4.2.
"""

from pathlib import Path

from icljax.experiment.api import Experiment, MainJobRun, RunRef
from icljax.results.lsa_chain_of_thought import checks, config, figures, mutants, plan, setup, tolerances

EXPERIMENT = Experiment(
    name="lsa_chain_of_thought",
    title="Chain of thought: one-layer linear attention runs multi-step GD autoregressively (Huang et al. 2025)",
    claim=("Trained teacher-forced on the GD iterates w_1..w_k (step eta) of each prompt's least-squares risk, "
           "one-layer linear attention learns V_31 = -eta I, W_13 = I (Theorem 3.2), so its autoregressive chain "
           "is GD and its error follows E tr(I - eta S)^{2k} towards 0; without chain of thought the optimum is one "
           "GD step of size n/(n+d+1) with error d(d+1)/(n+d+1) (Theorem 3.1)."),
    config=config.CotConfig,
    presets=config.PRESETS,
    variants=config.VARIANTS,
    quick=config.QUICK,
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed",),
    aggregate=figures.aggregate,
    main_job=(MainJobRun("lsa_chain_of_thought", key=True), MainJobRun("lsa_chain_of_thought", ("dense",)),
              MainJobRun("lsa_chain_of_thought", ("paper_dims",))),
    gate=RunRef("lsa_chain_of_thought", (), {"steps": 500, "eval_prompts": 10_000}),
    mutants=mutants.MUTANTS,
    page=Path(__file__).with_name("page.md"),
)
