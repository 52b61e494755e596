"""Noisy in-context recall sentences (Nguyen & Nguyen-Tang 2025; Bietti et al. 2023; Chen et al. 2024).

The generator of the authors' released code (github.com/ngmq/onelayer-transformer-ICR-DA-NTP, train.py), inside jit,
for any vocabulary:

1. trigger ``q``: uniform over ``triggers`` (noiseless) or ``triggers[0]`` (noisy: a single trigger);
2. output ``y``: uniform over ``outputs`` (or over ``unseen`` for the unseen-output test set);
3. filler ``z_1..z_H`` uniform over every regular token that is not a trigger (so outputs appear as filler);
4. ``z_H = q``; one bigram ``(q, y)`` at a uniform position ``p in {1..H-2}`` (1-indexed), so y is never last;
5. noisy: one bigram ``(q, tau)`` at a uniform position ``p'`` with ``|p' - p| > 1`` (no overlap);
6. target ``z_{H+1}``: ``tau`` with probability ``alpha`` (noisy), else ``y``.

Tokens are 0-indexed; the generic noise token is ``tau = V - 1``. The paper's instance is the default:
V = 60, triggers 0..4, outputs 5..8, unseen outputs 9..58, H = 256.

Reference: Nguyen & Nguyen-Tang (2025), Definition 2.1, and the authors' released generator.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from icljax import prng, validation
from icljax._pytree import pytree_dataclass, static_field


@pytree_dataclass
class RecallSpec:
  """The sentence distribution: the noise level (an array leaf, so stacks of runs may differ in it) and the
  vocabulary, token sets and context length (static).

  Attributes:
    alpha: noise level in [0, 1); alpha > 0 is the noisy task.
    V: classes, the noise token tau = V - 1 included.
    triggers: trigger token ids (the noisy task uses the first only).
    outputs: training output token ids.
    unseen: unseen-output token ids (the test set's outputs).
    H: context length.
    noisy: alpha > 0.

  Reference: Nguyen & Nguyen-Tang (2025), Definition 2.1, and the authors' released generator.
  """

  alpha: jax.Array                              # noise level in [0, 1); alpha > 0 is the noisy task
  V: int = static_field(default=60)             # classes, the noise token tau = V - 1 included
  triggers: tuple[int, ...] = static_field(default=(0, 1, 2, 3, 4))
  outputs: tuple[int, ...] = static_field(default=(5, 6, 7, 8))
  unseen: tuple[int, ...] = static_field(default=tuple(range(9, 59)))
  H: int = static_field(default=256)
  noisy: bool = static_field(default=False)

  @property
  def tau(self) -> int:
    """The generic noise token.

    Returns:
      ``V - 1``.

    Reference: Nguyen & Nguyen-Tang (2025), Definition 2.1.
    """
    return self.V - 1

  @property
  def filler(self) -> tuple[int, ...]:
    """The filler tokens: every regular token that is not a trigger (outputs included).

    Returns:
      Token ids.

    Reference: the authors' released generator (filler uniform over the non-trigger regular tokens).
    """
    return tuple(t for t in range(self.V - 1) if t not in self.triggers)


def make_spec(alpha: float = 0.0, *, V: int = 60, triggers: Sequence[int] = (0, 1, 2, 3, 4),
              outputs: Sequence[int] = (5, 6, 7, 8), unseen: Sequence[int] | None = None,
              H: int = 256) -> RecallSpec:
  """Validated spec; ``unseen`` defaults to every regular token that is neither a trigger nor an output.

  Raises ``ConfigError`` for alpha outside [0, 1), token ids outside ``0..V-2``, overlapping trigger/output/unseen
  sets, or ``H < 4`` (too short for the last trigger plus two non-overlapping bigrams).

  Args:
    alpha: noise level in [0, 1); alpha > 0 is the noisy task (one trigger).
    V: classes, the noise token tau = V - 1 included, >= 4.
    triggers: trigger token ids in 0..V-2.
    outputs: training output token ids, disjoint from the triggers.
    unseen: unseen-output token ids (default: every other regular token).
    H: context length, >= 4 (>= 6 when noisy).

  Returns:
    The spec.

  Reference: Nguyen & Nguyen-Tang (2025), Definition 2.1; the authors' released generator.
  """
  alpha = validation.real("alpha", alpha, low=0.0, high=1.0, high_open=True)
  V = validation.integer("V", V, low=4)
  H = validation.integer("H", H, low=6 if alpha > 0 else 4)
  sets = {}
  for name, tokens in (("triggers", triggers), ("outputs", outputs)):
    tokens = tuple(int(t) for t in tokens)
    if not tokens or any(t < 0 or t > V - 2 for t in tokens) or len(set(tokens)) != len(tokens):
      raise validation.ConfigError(name, tokens, f"a non-empty set of distinct token ids in 0..{V - 2} "
                                   f"(tau = {V - 1} is the noise token)")
    sets[name] = tokens
  if set(sets["triggers"]) & set(sets["outputs"]):
    raise validation.ConfigError("outputs", sets["outputs"], "token ids disjoint from the triggers "
                                 f"{sets['triggers']}")
  if unseen is None:
    unseen = tuple(t for t in range(V - 1) if t not in sets["triggers"] and t not in sets["outputs"])
  unseen = tuple(int(t) for t in unseen)
  if (not unseen or any(t < 0 or t > V - 2 for t in unseen)
      or set(unseen) & (set(sets["triggers"]) | set(sets["outputs"]))):
    raise validation.ConfigError("unseen", unseen, "a non-empty set of token ids in 0..V-2 disjoint from the "
                                 "triggers and the training outputs")
  return RecallSpec(alpha=jnp.asarray(alpha, jnp.float32), V=V, triggers=sets["triggers"],
                    outputs=sets["outputs"], unseen=unseen, H=H, noisy=alpha > 0)


def _choice(key: jax.Array, options: Sequence[int], shape: tuple[int, ...]) -> jax.Array:
  return jnp.asarray(options, jnp.int32)[jax.random.randint(key, shape, 0, len(options))]


@prng.sampler
def sample(key: jax.Array, spec: RecallSpec, batch_size: int, unseen: bool = False) -> dict[str, jax.Array]:
  """Sentences ``z`` (B, H) int32, next-token ``target`` (B,), output token ``y`` (B,) and ``noise`` (B,) bool.

  Args:
    key: PRNG key; the batch is a pure function of (key, spec, batch_size, unseen).
    spec: the task.
    batch_size: number of sentences B.
    unseen: draw outputs from ``spec.unseen`` (the unseen-output test set) instead of ``spec.outputs``.

  Returns:
    ``{'z', 'target', 'y', 'noise'}``.

  Reference: Nguyen & Nguyen-Tang (2025), the authors' released generator.
  """
  b, h = batch_size, spec.H
  k_q, k_y, k_f, k_p, k_pn = jax.random.split(key, 6)[:5]
  q = (jnp.full((b,), spec.triggers[0], jnp.int32) if spec.noisy else _choice(k_q, spec.triggers, (b,)))
  y = _choice(k_y, spec.unseen if unseen else spec.outputs, (b,))
  z = _choice(k_f, spec.filler, (b, h))
  rows = jnp.arange(b)
  z = z.at[:, h - 1].set(q)
  p = jax.random.randint(k_p, (b,), 0, h - 2)            # 0-indexed position of q; y at p + 1 <= h - 2
  z = z.at[rows, p].set(q).at[rows, p + 1].set(y)
  noise = jnp.zeros((b,), bool)
  if spec.noisy:
    # Uniform over the positions 0..h-3 at distance > 1 from p: draw r among the h-2-w allowed ones (w = size of
    # the excluded block [p-1, p+1] clipped to the range) and skip the block. One draw per sentence instead of a
    # categorical over h-2 logits (2x faster sentence generation; same law, tested).
    lo, hi = jnp.maximum(p - 1, 0), jnp.minimum(p + 1, h - 3)
    width = hi - lo + 1
    r = jax.random.randint(k_pn, (b,), 0, h - 2 - width)
    p_noise = jnp.where(r < lo, r, r + width)
    z = z.at[rows, p_noise].set(q).at[rows, p_noise + 1].set(spec.tau)
    noise = noise_flags(key, spec, b)
  target = jnp.where(noise, spec.tau, y)
  return {"z": z, "target": target, "y": y, "noise": noise}


@prng.sampler
def noise_flags(key: jax.Array, spec: RecallSpec, batch_size: int) -> jax.Array:
  """Which of the ``batch_size`` sentences :func:`sample` draws from ``key`` have the noise token as target.

  :func:`sample` takes its flags from here, so the noise fraction of a finite training set (``alpha_hat``) can be
  drawn for many seeds without generating the sentences (result 3's finite-sample law).

  Args:
    key: the key :func:`sample` is given.
    spec: the task (noisy).
    batch_size: number of sentences B.

  Returns:
    (B,) bool, i.i.d. Bernoulli(alpha).

  Reference: Nguyen & Nguyen-Tang (2025), Definition 2.1 (the target is tau with probability alpha); the
  finite-sample law on the docs page "recall".
  """
  return jax.random.bernoulli(jax.random.split(key, 6)[5], spec.alpha, (batch_size,))
