"""Result 1: a one-layer linear self-attention trained on in-context regression implements one step of
(preconditioned) gradient descent (Mahankali, Hashimoto, Ma 2023).

Reference: Mahankali, Hashimoto, Ma (2023), Theorems 1-3.
"""

from icljax.experiment.api import Experiment, MainJobRun
from icljax.results.lsa import checks, figures, mutants, plan, setup, tolerances

EXPERIMENT = Experiment(
    name="lsa",
    title="Result 1: linear self-attention = one step of gradient descent (Mahankali, Hashimoto, Ma 2023)",
    claim=("A one-layer linear self-attention trained on in-context linear regression implements one step of GD "
           "with step eta* = n/(n+d+1+sigma^2); with x ~ N(0, Sigma) and w* ~ N(0, Sigma^-1) one step of GD "
           "preconditioned by Sigma^-1 (with w* ~ N(0, I): the preconditioner Gamma* of Ahn et al.); with "
           "random-network targets still plain GD, with a smaller, target-dependent step."),
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "sigma"),
    aggregate=figures.aggregate,
    main_job=(MainJobRun("lsa_isotropic"), MainJobRun("lsa_preconditioned"),
              MainJobRun("lsa_preconditioned", "identity_prior"), MainJobRun("lsa_nonlinear"),
              MainJobRun("lsa_nonlinear", "tanh"),
              # the same theorems on the exact population loss (float64, L-BFGS): checks at float precision
              MainJobRun("lsa_isotropic", "exact", figure="eta_grid"), MainJobRun("lsa_preconditioned", "exact"),
              MainJobRun("lsa_preconditioned", "identity_prior,exact"), MainJobRun("lsa_preconditioned", "other,exact"),
              MainJobRun("lsa_isotropic", "d1,exact"),
              # digest section 2.4's conventions, one at a time and all together (the residual in reduced parameters)
              *(MainJobRun("lsa_isotropic", f"exact,{words},conv") for words in (
                  "include_query=True", "normalization='sum'", "normalization='mean_plus_one'",
                  "residual=True,parameterization='reduced'",
                  "normalization='sum',include_query=True,residual=True,parameterization='reduced'")),
              # the negative control: a prior that is not rotation invariant, so the optimum is not plain GD
              MainJobRun("lsa_isotropic", "control,exact,init_scale=0.1"),
              # learned step size against eta* over sigma^2 x n (issue 12; n = 20, sigma^2 = 0.25 is the run above)
              *(MainJobRun("lsa_isotropic", f"n={n},sigma={sigma},exact,grid", figure="eta_grid")
                for n in (5, 10, 20, 40, 80) for sigma in (0.0, 0.5, 1.0, 2.0) if (n, sigma) != (20, 0.5))),
    group_figures=figures.group_figures,
    gate='lsa_preconditioned:other,exact',
    mutants=mutants.MUTANTS,
)
