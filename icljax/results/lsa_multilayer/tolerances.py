"""The multi-layer result's tolerance table: every check names one entry; each entry says where its number comes
from."""

from icljax.experiment.checks import Tolerance

TOLERANCES = {
    "lemma1": Tolerance(1e-5, "max", "float rounding", "Lemma 1: the literal L-layer forward pass against L steps "
                        "of GD preconditioned by A_l^T, at the trained A; max |difference| / max(1, |prediction|), "
                        "float32 sums of n O(1) terms per layer"),
    "loss_vs_pgd": Tolerance(4.0, "abs", "standard error", "Theorem 3: eval MSE on fresh prompts against the exact "
                             "loss of the best L-step PGD (Wishart moments by Wick's theorem); 4 s.e. of the eval "
                             "MSE", per_se=True),
    "steps_excess": Tolerance(4.0, "max", "standard error", "the trained whitened step sizes, run as exact PGD, lose "
                              "at most what the eval MSE resolves: f(a_trained) - f(a*) <= 4 s.e.", per_se=True),
    "whitened_isotropic": Tolerance(0.03, "max", "digest", "P5: Dist(Sigma^1/2 A_l Sigma^1/2, I) < 3% for a "
                                    "trained B = 0 model (full-matrix SAA optima: <= 0.4% off-diagonal)"),
    "beats_constant": Tolerance(0.0, "max", "paper", "L layers learn layer-dependent steps: the eval MSE is below "
                                "the best constant-step L-step PGD (f(a_const) - 4 s.e.)", kind="claim", per_se=True),
}
