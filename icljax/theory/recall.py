"""Theory of noisy in-context recall with one-layer linear/ReLU attention (Nguyen & Nguyen-Tang 2025).

Natural logarithms throughout; V classes including the noise token tau (V = 60 in the paper's instance, so
``V - 1 = 59`` non-target classes noiseless and ``V - 2 = 58`` non-(y, tau) classes noisy).

Reference: Nguyen & Nguyen-Tang (2025), Lemma 3.1, Thm 3.2, Thm 5.4-5.6 (v3 numbering); the closed
forms marked derived are derived in the theorem's docs page.
"""

from __future__ import annotations

import math

import numpy as np


def entropy(alpha: float) -> float:
  """Bayes risk of the noisy task, ``H(alpha) = -alpha ln alpha - (1-alpha) ln(1-alpha)`` (0 when noiseless).

  Args:
    alpha: noise level.

  Returns:
    H(alpha) in nats.

  Reference: Nguyen & Nguyen-Tang (2025), Definition 2.1's Bayes risk (derived in the theorem's docs page).
  """
  if alpha <= 0.0:
    return 0.0
  return float(-alpha * np.log(alpha) - (1 - alpha) * np.log(1 - alpha))


def gamma(alpha: float) -> float:
  """FF weight of the noisy construction, ``ln(alpha/(1-alpha))``.

  Args:
    alpha: noise level in (0, 1).

  Returns:
    gamma.

  Reference: Nguyen & Nguyen-Tang (2025), the reparameterised F of the authors' released code.
  """
  return float(np.log(alpha / (1 - alpha)))


def loss_noiseless(lam: np.ndarray, V: int = 60) -> float:
  """P4: ``mean_q ln(1 + (V-1) e^{-lam_q})`` (reparam linear/ReLU, population or unseen outputs).

  Args:
    lam: the trained lam (one per trigger).
    V: classes.

  Returns:
    The population loss.

  Reference: Nguyen & Nguyen-Tang (2025), Lemma 3.1 (the loss derived in the theorem's docs page).
  """
  lam = np.atleast_1d(np.asarray(lam, np.float64))
  return float(np.mean(np.log1p((V - 1) * np.exp(-lam))))


def loss_noisy(lam: float, alpha: float, V: int = 60, kappa: int = 1, gamma_hat: float | None = None) -> float:
  """Population loss of the noisy reparam model with attention logit ``lam`` on y and FF logit
  ``gamma_hat + kappa lam`` on tau (all others 0)::

      ln(e^lam + e^{gamma_hat + kappa lam} + V - 2) - (1 - alpha) lam - alpha (gamma_hat + kappa lam).

  With ``kappa = 1`` and ``gamma_hat = ln(alpha/(1-alpha))`` this is ``H(alpha) + ln(1 + (V-2)(1-alpha) e^{-lam})``
  (P2); with a finite-sample ``gamma_hat`` it is P7; with ``kappa = 0`` it is P9.

  Args:
    lam: attention logit on y.
    alpha: noise level.
    V: classes.
    kappa: 1 (FA) or 0 (F).
    gamma_hat: FF weight (default ``gamma(alpha)``).

  Returns:
    The population loss.

  Reference: Nguyen & Nguyen-Tang (2025), Lemma 3.1, Thm 5.4 (derived in the theorem's docs page).
  """
  g = gamma(alpha) if gamma_hat is None else gamma_hat
  lt = g + kappa * lam
  top = max(lam, lt, 0.0)
  log_z = top + np.log(np.exp(lam - top) + np.exp(lt - top) + (V - 2) * np.exp(-top))
  return float(log_z - (1 - alpha) * lam - alpha * lt)


def bayes_form_loss(lam: float | np.ndarray, alpha: float, V: int = 60) -> float | np.ndarray:
  """P2 in its Bayes form, ``H(alpha) + ln(1 + (V-2)(1-alpha) e^{-lam})``: the population loss of the noisy
  Reparam-FA model (kappa = 1) at attention logit ``lam`` with the feed-forward weight of the true law. Written
  without :func:`gamma`, so it can be the reference of a model whose gamma was set by that function.

  Args:
    lam: attention logit(s) on y (e.g. eta t along the NGD trajectory).
    alpha: noise level in (0, 1).
    V: classes.

  Returns:
    The loss (an array shaped like ``lam``, or a float).

  Reference: Nguyen & Nguyen-Tang (2025), Lemma 3.1 with kappa = 1 (derived in the theorem's docs page).
  """
  value = entropy(alpha) + np.log1p((V - 2) * (1 - alpha) * np.exp(-np.asarray(lam, np.float64)))
  return value if np.ndim(value) else float(value)


def loss_sd_fa(alpha: float) -> float:
  """Standard deviation of one sentence's loss for the noisy Reparam-FA model under the true law.

  A sentence's loss is ``ln Z - lam`` when its target is y and ``ln Z - lam - gamma`` when it is tau (the tau logit
  is ``gamma + lam``), whatever lam: a two-point law with gap ``|ln(alpha/(1-alpha))|`` and weights ``1-alpha,
  alpha``. It is 0 at alpha = 0.5, where the training loss cannot see the noise.

  Args:
    alpha: noise level in (0, 1).

  Returns:
    ``sqrt(alpha (1-alpha)) |ln(alpha/(1-alpha))|``.

  Reference: Nguyen & Nguyen-Tang (2025), the construction of Lemma 3.1 (derived in the theorem's docs page).
  """
  return float(np.sqrt(alpha * (1 - alpha)) * abs(np.log(alpha) - np.log1p(-alpha)))


def p_noise_fa(lam: float, alpha: float, V: int = 60) -> float:
  """P6: the noisy Reparam-FA model's probability of tau at attention logit ``lam``,
  ``alpha / (1 + (V-2)(1-alpha) e^{-lam})``, which tends to alpha.

  Args:
    lam: attention logit on y.
    alpha: noise level in (0, 1).
    V: classes.

  Returns:
    P(tau) on any sentence (seen or unseen output).

  Reference: Nguyen & Nguyen-Tang (2025), Thm 5.5 (derived in the theorem's docs page).
  """
  return float(alpha / (1 + (V - 2) * (1 - alpha) * np.exp(-lam)))


def kappa0_optimum(alpha: float, V: int = 60) -> tuple[float, float]:
  """P9: without the attention input to the FF, the best ``Lam* = ln(1 + (V-2)(1-alpha)/alpha)`` and its loss
  ``H(alpha) + alpha ln(1 + (V-2)(1-alpha)/alpha)`` (not Bayes-optimal).

  Args:
    alpha: noise level in (0, 1).
    V: classes.

  Returns:
    ``(Lam*, loss at Lam*)``.

  Reference: Nguyen & Nguyen-Tang (2025), the kappa = 0 ('F') variant of the authors' released code (derived in
  the theorem's docs page).
  """
  r = (V - 2) * (1 - alpha) / alpha
  return float(np.log1p(r)), entropy(alpha) + alpha * float(np.log1p(r))


def softmax_plateau(alpha: float, V: int = 60) -> float:
  """P5: softmax attention logits lie in [0, 1], so reparam-softmax plateaus at the linear loss at lam = 1.

  Args:
    alpha: noise level.
    V: classes.

  Returns:
    The plateau loss.

  Reference: Nguyen & Nguyen-Tang (2025), Sec. 4 (softmax attention; derived in the theorem's docs page).
  """
  return loss_noiseless(np.array([1.0]), V) if alpha <= 0 else float(bayes_form_loss(1.0, alpha, V))


def ngd_trajectory(t: np.ndarray, eta: float, num_triggers: int, noisy: bool) -> np.ndarray:
  """P3/P4: per-tensor NGD moves ``Lam`` by exactly eta per step (every gradient is negative) and each of the
  |Q| entries of ``lam`` by ``eta / sqrt(|Q|)`` (equal gradients by symmetry).

  Args:
    t: steps.
    eta: NGD step.
    num_triggers: |Q|.
    noisy: the noisy task (scalar Lam) or not (vector lam).

  Returns:
    The expected parameter value at each step.

  Reference: Nguyen & Nguyen-Tang (2025), Thm 3.2 (the per-tensor normalisation of the authors' released code).
  """
  t = np.asarray(t, np.float64)
  return eta * t if noisy else eta * t / np.sqrt(num_triggers)


def kl_bernoulli(alpha: float, alpha_hat: float | np.ndarray) -> float | np.ndarray:
  """``KL(Ber(alpha) || Ber(alpha_hat))``: the finite-sample excess of the limit loss (T4/P7).

  Args:
    alpha: the true noise level.
    alpha_hat: the training set's noise fraction (a number, or an array of them).

  Returns:
    The KL divergence in nats (a float, or an array shaped like ``alpha_hat``).

  Reference: Nguyen & Nguyen-Tang (2025), the finite-sample analysis (derived in the theorem's docs page).
  """
  value = alpha * np.log(alpha / alpha_hat) + (1 - alpha) * np.log((1 - alpha) / (1 - alpha_hat))
  return value if np.ndim(value) else float(value)


def expected_kl_binomial(alpha: float, m: int) -> float:
  """``E[KL(Ber(alpha) || Ber(K/M))]`` for ``K ~ Binomial(M, alpha)`` given ``0 < K < M``, exactly (a sum over K).

  The finite-sample excess of result 3's limit loss averaged over training sets; ``1/(2M) + O(1/M^2)`` (the delta
  method: KL ~ (alpha_hat - alpha)^2 / (2 alpha (1 - alpha)) and Var alpha_hat = alpha (1 - alpha)/M).

  Args:
    alpha: the noise level, in (0, 1).
    m: training-set size M >= 2.

  Returns:
    The expectation in nats.

  Reference: Nguyen & Nguyen-Tang (2025), the finite-sample analysis ("E[KL] ~ 1/(2M)", derived in the theorem's
  docs page).
  """
  k = np.arange(1, m)
  log_pmf = (np.array([math.lgamma(m + 1) - math.lgamma(i + 1) - math.lgamma(m - i + 1) for i in k])
             + k * np.log(alpha) + (m - k) * np.log1p(-alpha))
  pmf = np.exp(log_pmf)
  return float(np.sum(pmf * kl_bernoulli(alpha, k / m)) / np.sum(pmf))


def context_free_loss(alpha: float, num_outputs: int) -> float:
  """The best loss of a predictor that sees only the last token (the trigger): ``H(alpha) + (1 - alpha) ln |Y|``.

  The target is tau with probability alpha and otherwise uniform over the |Y| training outputs, whatever the
  trigger; Origin-Linear-F from zero plateaus here because its attention never moves (P10).

  Args:
    alpha: the noise level (0: noiseless).
    num_outputs: the number of training output tokens |Y|.

  Returns:
    The loss in nats (ln 4 = 1.3863 noiseless; 1.6094 / 1.3863 / 0.7777 at alpha = .2 / .5 / .8).

  Reference: Nguyen & Nguyen-Tang (2025), the 'F' variant of the authors' released code (derived in the
  theorem's docs page).
  """
  return entropy(alpha) + (1 - alpha) * float(np.log(num_outputs))
