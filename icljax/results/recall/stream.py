"""Result 3's training stream drawn again, and normalised GD replayed on it in NumPy.

A population run trains on fresh batches: the batch of step t is ``task.sample(fold_in(data_key, t), spec, B)``
(``train.make_chunk`` folds the step into the data key, ``estimators.fresh`` samples from it), so evaluation can
draw exactly what training saw. Two things are read from it:

* the stream's noise fraction (the tau targets it holds), the data's own estimate of alpha: P6 says the trained
  model's P(tau) tends to it;
* per step, the batch's noise fraction and trigger counts, on which NGD is replayed with the batch gradient derived
  in closed form (below), independently of the model's code: the trained Lam (lam) must follow that
  data-dependent trajectory.

Batch gradients (derived in the theorem's docs page from the logits of the construction, Nguyen & Nguyen-Tang 2025,
Sec. 3: the noisy Reparam model gives y the logit Lam and tau the logit gamma + kappa Lam, every other class 0; the
noiseless one gives y the logit lam_q of the sentence's trigger q):

* noisy, a batch whose fraction of tau targets is f: ``dL/dLam = (e^Lam + kappa e^(gamma + kappa Lam)) / Z -
  (1 - f) - kappa f`` with ``Z = e^Lam + e^(gamma + kappa Lam) + V - 2``; with kappa = 1 it is ``-(V-2)/Z < 0`` on
  every batch (so Lam_t = eta t, P3), with kappa = 0 its sign depends on f (the oscillation of P9);
* noiseless, n_q sentences of trigger q in a batch of B: ``dL/dlam_q = -(n_q/B) (V-1)/(e^lam_q + V - 1)``.

NGD moves each tensor by ``-eta g/|g|`` (a scalar: ``-eta sign(g)``).

Reference: Nguyen & Nguyen-Tang (2025), Lemma 3.1's construction and Thm 3.2's NGD; docs page "recall", section
"What is checked and why" (the batch gradients).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from icljax.tasks import recall as task


def batch_counts(spec: task.RecallSpec, data_key: jax.Array, batch_size: int,
                 steps: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
  """The training batches of the given steps drawn again, reduced to counts.

  Args:
    spec: the run's task.
    data_key: the run's data key (``Plan.data_key``).
    batch_size: sentences per step.
    steps: the steps t (batch t is drawn from ``fold_in(data_key, t)``, as in training).

  Returns:
    ``{'noise': (S,) number of tau targets, 'triggers': (S, |Q|) number of sentences ending in each trigger}``.

  Reference: docs page "recall", section "What is checked and why" (the training stream drawn again).
  """
  triggers = jnp.asarray(spec.triggers, jnp.int32)

  def one(t):
    b = task.sample(jax.random.fold_in(data_key, t), spec, batch_size)
    return (jnp.sum(b["target"] == spec.tau),
            jnp.sum(b["z"][:, -1][:, None] == triggers[None, :], axis=0))

  noise, trig = jax.jit(lambda ts: jax.lax.map(one, ts))(jnp.asarray(np.asarray(steps), jnp.int32))
  return {"noise": np.asarray(noise, np.int64), "triggers": np.asarray(trig, np.int64)}


def noisy_gradient(lam: float, fraction: float, gamma: float, kappa: int, V: int) -> float:
  """``dL/dLam`` of the noisy Reparam model's mean loss on a batch with a fraction ``fraction`` of tau targets.

  Args:
    lam: the attention logit Lam.
    fraction: the batch's fraction of tau targets.
    gamma: the feed-forward weight.
    kappa: 1 (FA) or 0 (F).
    V: classes.

  Returns:
    The derivative (float64).

  Reference: docs page "recall", section "What is checked and why" (batch gradients).
  """
  lt = gamma + kappa * lam
  top = max(lam, lt, 0.0)
  e_y, e_t, rest = np.exp(lam - top), np.exp(lt - top), (V - 2) * np.exp(-top)
  return float((e_y + kappa * e_t) / (e_y + e_t + rest) - (1 - fraction) - kappa * fraction)


def replay_noisy(lam: float, fractions: np.ndarray, eta: float, gamma: float, kappa: int, V: int,
                 ambiguous: float) -> tuple[float, bool]:
  """NGD on Lam over consecutive batches, from ``lam``.

  Args:
    lam: Lam at the first step.
    fractions: (k,) the batches' fractions of tau targets.
    eta: the NGD step.
    gamma: the feed-forward weight.
    kappa: 1 (FA) or 0 (F).
    V: classes.
    ambiguous: a gradient closer to 0 than this has a sign the run's float precision may not reproduce.

  Returns:
    ``(Lam after the k steps, whether every step's sign was unambiguous)``.

  Reference: Nguyen & Nguyen-Tang (2025), Thm 3.2 (NGD, kappa = 1) and the kappa = 0 variant; docs page "recall",
  section "What is checked and why" (entry lam_trajectory).
  """
  clear = True
  for f in np.asarray(fractions, np.float64):
    g = noisy_gradient(lam, float(f), gamma, kappa, V)
    clear &= abs(g) > ambiguous
    lam -= eta * float(np.sign(g))
  return lam, clear


def replay_noiseless(lam: np.ndarray, counts: np.ndarray, batch_size: int, eta: float, V: int) -> np.ndarray:
  """NGD on the vector lam over consecutive batches, from ``lam``.

  Args:
    lam: (|Q|,) lam at the first step.
    counts: (k, |Q|) sentences of each trigger in the batches.
    batch_size: sentences per batch.
    eta: the NGD step.
    V: classes.

  Returns:
    (|Q|,) lam after the k steps (float64).

  Reference: Nguyen & Nguyen-Tang (2025), Thm 3.2 (noiseless); docs page "recall", section "What is checked and
  why" (entry lam_noiseless).
  """
  lam = np.array(lam, np.float64)
  for n in np.asarray(counts, np.float64):
    g = -(n / batch_size) * (V - 1) / (np.exp(lam) + V - 1)
    norm = float(np.sqrt(np.sum(g * g)))
    if norm > 0:
      lam -= eta * g / norm
  return lam
