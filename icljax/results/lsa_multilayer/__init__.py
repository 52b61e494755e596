"""Several layers: an L-layer linear transformer (sparse class, B_l = 0) trained on in-context regression with the
inverse-covariance prior implements L steps of GD preconditioned by a_l Sigma^-1, with the best step sizes
(Theorem 3); with B_l trained it lands on Theorem 4's family A_l = a_l Sigma^-1, B_l = b_l I.

Reference: Ahn, Cheng, Daneshmand, Sra (2023), arXiv 2306.00297, Lemma 1 and Theorems 3-4; docs page
"lsa_multilayer".
"""

from pathlib import Path

from icljax.experiment.api import Experiment, MainJobRun, RunRef
from icljax.results.lsa_multilayer import checks, config, figures, mutants, plan, setup, tolerances

EXPERIMENT = Experiment(
    name="lsa_multilayer",
    title="Several layers: L-layer linear attention = L steps of preconditioned GD (Ahn et al. 2023)",
    claim=("Trained on x ~ N(0, Sigma), w* ~ N(0, Sigma^-1), the L-layer linear transformer with B_l = 0 reaches the "
           "loss of the best L-step GD preconditioned by a_l Sigma^-1 (Theorem 3), with Sigma^1/2 A_l Sigma^1/2 = "
           "a_l I and the step sizes {a_l} of that optimum (in some order); its forward pass is that GD (Lemma 1). "
           "With B_l trained (Theorem 4) it lands on the family A_l = a_l Sigma^-1, B_l = b_l I at its best member, "
           "far below Theorem 3's loss."),
    config=config.MultilayerConfig,
    presets=config.PRESETS,
    variants=config.VARIANTS,
    quick=config.QUICK,
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed",),
    run_name=config.run_name,
    aggregate=figures.aggregate,
    main_job=(MainJobRun("lsa_multilayer", key=True), MainJobRun("lsa_multilayer", ("with_b",), key=True),
              # four layers: the best 4-step PGD (Wishart moments to order 8) and the independent NumPy values
              MainJobRun("lsa_multilayer", ("L4",))),
    # Theorem 3 at L = 2 on 20000 prompts: distinct steps (0.515, 1.250), the exact and the NumPy optimum (~20 s)
    gate=RunRef("lsa_multilayer", (), {"L": 2, "sample_size": 20_000, "steps": 100, "eval_prompts": 20_000,
                                       "noise_prompts": 50_000}),
    mutants=mutants.MUTANTS,
    page=Path(__file__).with_name("page.md"),
)
