"""flax NNX modules of the three models, for users who put these layers into bigger networks (``pip install
icljax[flax]``; the rest of icljax never imports flax).

Each module holds its trainable tensors as ``nnx.Param`` attributes named as in the pure parameter dict and calls
the pure ``apply`` of ``icljax.models``: the module and the function compute the same thing (tested to float
rounding), and training the module with ``nnx.Optimizer`` reaches the same parameters as the pure optax loop.

    from flax import nnx
    import optax
    from icljax import flax_layers
    from icljax.models import lsa

    layer = flax_layers.LinearSelfAttention(lsa.LsaSpec(d=5, n=20), rngs=nnx.Rngs(0))
    y_hat = layer({"x": x, "y": y, "x_query": xq})           # (batch,)
    opt = nnx.Optimizer(layer, optax.adam(1e-3), wrt=nnx.Param)
    params = layer.pure_params()                             # the plain dict icljax.models.lsa.apply takes
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
from flax import nnx

from icljax.models import lsa, nearest_neighbor, recall


class Spec(nnx.Variable):
  """A spec with array leaves (recall's gamma), carried as a non-trainable variable; plain frozen specs (LsaSpec,
  NNModelSpec) are static attributes of the module."""


class _PureModule(nnx.Module):
  """Trainable tensors as ``nnx.Param`` attributes; the forward pass is a pure ``apply(params, batch, spec)``."""

  apply_fn: Callable[[dict[str, jax.Array], Mapping[str, jax.Array], Any], jax.Array]

  def __init__(self, params: Mapping[str, jax.Array], spec: Any):
    self._spec = spec if jax.tree.leaves(spec) == [spec] else Spec(spec)
    self.names = tuple(sorted(params))
    for name in self.names:
      setattr(self, name, nnx.Param(params[name]))

  def pure_params(self) -> dict[str, jax.Array]:
    """The parameters as the plain dict the pure functions of ``icljax.models`` take."""
    return {name: getattr(self, name).get_value() for name in self.names}

  @property
  def spec(self) -> Any:
    """The model's spec, as the pure functions take it."""
    return self._spec.get_value() if isinstance(self._spec, Spec) else self._spec

  def __call__(self, batch: Mapping[str, jax.Array]) -> jax.Array:
    return type(self).apply_fn(self.pure_params(), batch, self.spec)


class LinearSelfAttention(_PureModule):
  """One-layer linear self-attention (``icljax.models.lsa``; result 1): ``y_hat`` of shape (batch,).

  Args:
    spec: dimensions, convention and initialisation (``lsa.LsaSpec``).
    rngs: the ``params`` stream initialises ``W_K, W_Q, W_V, h`` (or ``w, M`` reduced) as ``lsa.init`` does.
    params: start from these pure parameters instead (``rngs`` is then not used).
  """

  apply_fn = staticmethod(lsa.apply)

  def __init__(self, spec: lsa.LsaSpec, *, rngs: nnx.Rngs | None = None,
               params: Mapping[str, jax.Array] | None = None):
    # rngs is required when params is None (without either: AttributeError on None)
    super().__init__(params if params is not None else lsa.init(rngs.params(), spec), spec)  # type: ignore[union-attr]


class SoftmaxAttention1NN(_PureModule):
  """One-layer softmax attention of Li et al. (``icljax.models.nearest_neighbor``; result 2): ``y_hat`` (batch,).

  Args:
    spec: input dimension and initialisation (``nearest_neighbor.NNModelSpec``).
    rngs: the ``params`` stream initialises ``W`` as ``nearest_neighbor.init`` does.
    params: start from these pure parameters instead.
  """

  apply_fn = staticmethod(nearest_neighbor.apply)

  def __init__(self, spec: nearest_neighbor.NNModelSpec, *, rngs: nnx.Rngs | None = None,
               params: Mapping[str, jax.Array] | None = None):
    # rngs is required when params is None (without either: AttributeError on None)
    super().__init__(params if params is not None else nearest_neighbor.init(rngs.params(), spec),  # type: ignore[union-attr]
                     spec)


class RecallTransformer(_PureModule):
  """The one-layer transformer of noisy in-context recall (``icljax.models.recall``; result 3): logits (batch, V).

  Args:
    model: the variant (``recall.make_model``); its initialisation is deterministic (zeros), so no rngs.
    params: start from these pure parameters instead of zeros.
  """

  apply_fn = staticmethod(recall.apply)

  def __init__(self, model: recall.RecallModel, *, params: Mapping[str, jax.Array] | None = None):
    super().__init__(params if params is not None else recall.init(None, model), model)
