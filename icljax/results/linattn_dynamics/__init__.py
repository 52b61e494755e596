"""Training dynamics of multi-head linear attention: ATTN_M drops once, ATTN_S learns the eigendirections one at a
time, with plateaus at in-context principal-component regression.

Reference: Zhang, Singh, Latham, Saxe (2025), arXiv 2501.16265, Secs. 2-5, Eqs. 1-22.
"""

from pathlib import Path

from icljax.experiment.api import Experiment, MainJobRun, RunRef
from icljax.results.linattn_dynamics import checks, config, figures, mutants, plan, setup, tolerances

EXPERIMENT = Experiment(
    name="linattn_dynamics",
    title="Linear-attention training dynamics: one drop (ATTN_M), a staircase of PCR plateaus (ATTN_S) (Zhang et al. "
          "2025)",
    claim=("Trained by GD from small initialisation on in-context regression with an anisotropic Sigma, merged "
           "key-query linear attention (a two-layer linear network on beta x_q^T) drops once, after a time growing as "
           "ln(1/s)/||Lam^2||_F, to the optimum; separate rank-one keys and queries learn the eigendirections one at a "
           "time in decreasing eigenvalue order, resting on the plateaus L(M_m) of in-context principal-component "
           "regression, with drop times scaling as 1/s and unchanged by label noise."),
    config=config.LinattnConfig,
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
    main_job=(MainJobRun("linattn_dynamics", key=True), MainJobRun("linattn_dynamics", ("merged",)),
              MainJobRun("linattn_dynamics", ("rank",)), MainJobRun("linattn_dynamics", ("fig3",), key=True),
              MainJobRun("linattn_dynamics", ("sigmoid",))),
    gate=RunRef("linattn_dynamics"),
    mutants=mutants.MUTANTS,
    page=Path(__file__).with_name("page.md"),
)
