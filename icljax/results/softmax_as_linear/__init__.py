"""Softmax attention as linear attention in the large-prompt regime (Boursier & Boyer 2025, arXiv 2512.11784).

One folder: ``config`` (the fields, the packaged config and its variants), ``setup`` (config -> specs), ``plan``
(objective, layers, references), ``operator`` and ``concentration`` (Lemma 2.1 and Prop. 3.1, no training),
``trained`` and ``finite_checks`` (the trained layers against the exact finite-L optimum and the first-order
forms), ``checks`` (the evaluation), ``tolerances``, ``figures``, ``mutants`` and ``page.md`` (the docs page).

Reference: Boursier & Boyer (2025), "Softmax as linear attention in the large-prompt regime: a measure-based
perspective", arXiv 2512.11784, Lemma 2.1, Prop. 3.1, Thm 4.3, Thm 5.1.
"""

from pathlib import Path

from icljax.experiment.api import Experiment, MainJobRun, RunRef
from icljax.results.softmax_as_linear import checks, config, figures, mutants, plan, setup, tolerances

EXPERIMENT = Experiment(
    name="softmax_as_linear",
    title="Softmax attention = linear attention at large prompts (Boursier & Boyer 2025)",
    claim=("For Gaussian tokens the infinite-prompt softmax attention operator is linear, V(m + Gamma K^T Q z) "
           "(Lemma 2.1), and the finite-prompt operator concentrates on it (at rate 1/L when lambda_max(U^T Gamma U) "
           "< 1/2, more slowly beyond, Prop. 3.1); gradient flow on the infinite-prompt regression risk reaches the "
           "balanced end point b A = Sigma^-1, |A|_F = b (Thm 5.1), and a softmax layer trained at finite L reaches "
           "the same end-to-end map up to O(1/L) (Thm 4.3): b A = (1 - kappa/L) Sigma^-1 at the finite-L "
           "temperature t_L -> t*, with excess F(t*)/L, above linear attention's at the same L."),
    config=config.SalConfig,
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
    main_job=(
        # KEY (the default profile, ~20 s): Lemma 2.1, the concentration curves (log-log), R_inf's end point and the
        # softmax layer trained at L = 256 against its exact finite-L optimum, beside linear attention.
        MainJobRun("softmax_as_linear", figure="trained_vs_L", key=True),
        # Full archive: the trained layer over L (with the key run: the trained_vs_L figure), noise, Toeplitz
        # Sigma, the non-Gaussian controls, plain GD's two time scales, the authors' sampler.
        MainJobRun("softmax_as_linear", ("L64",), figure="trained_vs_L"),
        MainJobRun("softmax_as_linear", ("L1024",), figure="trained_vs_L"),
        MainJobRun("softmax_as_linear", ("noisy",)),
        MainJobRun("softmax_as_linear", ("toeplitz",)),
        MainJobRun("softmax_as_linear", ("uniform",)),
        MainJobRun("softmax_as_linear", ("rademacher",)),
        MainJobRun("softmax_as_linear", ("two_scales",)),
        MainJobRun("softmax_as_linear", ("official_bug",)),
    ),
    group_figures=figures.group_figures,
    gate=RunRef("softmax_as_linear", ("gate",)),
    mutants=mutants.MUTANTS,
    page=Path(__file__).with_name("page.md"),
)
