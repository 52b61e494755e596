"""lsa: a one-layer linear self-attention trained on in-context regression implements one step of (preconditioned)
gradient descent (Mahankali, Hashimoto, Ma 2023).

Reference: Mahankali, Hashimoto, Ma (2023), arXiv 2307.03576, Theorems 1-3; docs page "lsa".
"""

from pathlib import Path

from icljax.experiment.api import Experiment, MainJobRun, RunRef
from icljax.results.lsa import checks, config, figures, mutants, plan, setup, tolerances

# The conventions of the docs page's section "Setting", one at a time and all together (the residual in reduced
# parameters).
CONVENTIONS = ({"include_query": True}, {"normalization": "sum"}, {"normalization": "mean_plus_one"},
               {"residual": True, "parameterization": "reduced"},
               {"normalization": "sum", "include_query": True, "residual": True, "parameterization": "reduced"})
# The eta* grid: sigma^2 in {0, 0.25, 1, 4} x n in {5, 10, 20, 40, 80} (n = 20, sigma^2 = 0.25 is lsa_isotropic_exact).
# Key runs (the default profile): the headline lsa_isotropic_exact (Theorem 1 at float precision) and the grid's
# sigma^2 sweep at n = 20 (one compiled stack): the archive's own runs, so --full reuses them (docs page "lsa",
# section "Reproducing the figures", has their cost).
GRID = tuple((n, sigma) for n in (5, 10, 20, 40, 80) for sigma in (0.0, 0.5, 1.0, 2.0))

EXPERIMENT = Experiment(
    name="lsa",
    title="Result 1: linear self-attention = one step of gradient descent (Mahankali, Hashimoto, Ma 2023)",
    claim=("A one-layer linear self-attention trained on in-context linear regression implements one step of GD "
           "with step eta* = n/(n+d+1+sigma^2); with x ~ N(0, Sigma) and w* ~ N(0, Sigma^-1) one step of GD "
           "preconditioned by Sigma^-1 (with w* ~ N(0, I): the preconditioner Gamma* of Ahn et al.); with "
           "random-network targets still plain GD, with a smaller, target-dependent step."),
    config=config.LsaConfig,
    presets=config.PRESETS,
    variants=config.VARIANTS,
    quick=config.QUICK,
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "sigma"),
    run_name=config.run_name,
    aggregate=figures.aggregate,
    main_job=(MainJobRun("lsa_isotropic"), MainJobRun("lsa_preconditioned"),
              MainJobRun("lsa_preconditioned", ("identity_prior",)), MainJobRun("lsa_nonlinear"),
              MainJobRun("lsa_nonlinear", ("tanh",)),
              # the same theorems on the exact population loss (float64, L-BFGS): checks at float precision
              MainJobRun("lsa_isotropic", ("exact",), figure="eta_grid", key=True),
              MainJobRun("lsa_preconditioned", ("exact",)),
              MainJobRun("lsa_preconditioned", ("identity_prior", "exact")),
              MainJobRun("lsa_preconditioned", ("other", "exact")), MainJobRun("lsa_isotropic", ("d1", "exact")),
              *(MainJobRun("lsa_isotropic", ("exact",), convention) for convention in CONVENTIONS),
              # the negative control: a prior that is not rotation invariant, so the optimum is not plain GD
              MainJobRun("lsa_isotropic", ("control", "exact"), {"init_scale": 0.1}),
              # the learned step against eta* over sigma^2 x n; key: the sigma^2 sweep at n = 20 (with the run above)
              *(MainJobRun("lsa_isotropic", ("exact",), {"n": n, "sigma": sigma, "eval_prompts": 20_000},
                           figure="eta_grid", key=n == 20) for n, sigma in GRID if (n, sigma) != (20, 0.5))),
    group_figures=figures.group_figures,
    gate=RunRef("lsa_preconditioned", ("other", "exact")),
    mutants=mutants.MUTANTS,
    page=Path(__file__).with_name("page.md"),
)
