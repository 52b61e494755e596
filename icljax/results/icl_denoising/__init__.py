"""In-context denoising with one-layer transformers (Smart, Bietti & Sengupta 2025): trained linear attention at the
exact finite-L optimum gamma*_L and the balanced end point of plain GD, trained softmax attention on the finite-L
valley alpha*(beta), the Bayes denoisers of the three task families, the layer as one energy step, and the paper's
errors (eq. (4), the code's Bessel orders, the Fig. 5 caption).

Reference: Smart, Bietti & Sengupta (2025), arXiv 2502.05164, Sections 2-4 and Apps. C, D, G, I.
"""

from icljax.experiment.api import Experiment, MainJobRun
from icljax.results.icl_denoising import checks, figures, mutants, plan, setup, tolerances

EXPERIMENT = Experiment(
    name="icl_denoising",
    title="In-context denoising: one-layer attention at the finite-L optimum (Smart, Bietti & Sengupta 2025)",
    claim=("One-layer attention denoises in context: linear attention with W_PV W_KQ = gamma I is Bayes-optimal on "
           "linear subspaces and softmax attention at (I, I/sigma_z^2) on spheres as L -> infinity; at finite L the "
           "trained weights sit at the finite-L optimum: gamma*_L = 1/[(sigma0^2 + sigma_z^2)(1 + (d+1)/L)] for "
           "linear attention (its limit 1/(sigma0^2 + sigma_z^2) is the paper's eq. (10)), the finite-L valley "
           "alpha*(beta) for softmax attention; the layer is one gradient step on a dense-associative-memory "
           "energy."),
    setup=setup.parse,
    plan=plan.plan,
    evaluate=checks.evaluate,
    figures=figures.figures,
    tolerances=tolerances.TOLERANCES,
    stack_fields=("seed", "sigma0_sq", "sigma_z_sq", "radius"),
    aggregate=figures.aggregate,
    main_job=(
        # KEY figure of the default main job (the only key run; ~25 s of CPU on 2 cores): the subspace task at
        # L = 19, trained gamma against gamma*_L with the L -> infinity control, the balanced GD end point, the
        # softmax valley, eq. (4).
        MainJobRun("icl_denoising", "grid", figure="gamma_vs_L"),
        # full archive: Fig. 4(a) with the finite-L optimum (gamma against L; L = 99 and 499 are left out: there
        # Adam leaves the softmax's alpha measurably behind its valley within the run's steps), the sphere (the
        # code's Bessel orders, Fig. 5) and the mixture (Prop. 4, sigma0 = 0), and both at the paper's L = 499
        *(MainJobRun("icl_denoising", f"L={L},grid", figure="gamma_vs_L") for L in (9, 49)),
        MainJobRun("icl_denoising", "sphere"),
        MainJobRun("icl_denoising", "mixture"),
        MainJobRun("icl_denoising", "sphere,paper"),
        MainJobRun("icl_denoising", "mixture,paper"),
    ),
    gate="icl_denoising:gate,sigma_z_sq=0.5",
    mutants=mutants.MUTANTS,
)
