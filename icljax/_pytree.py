"""Frozen dataclasses registered as JAX pytrees (static fields carry shapes and choices)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

import jax
import numpy as np

T = TypeVar("T")


def static_field(**kwargs: Any) -> Any:
  """A dataclass field that is part of the pytree's structure (hashable, not traced)."""
  return dataclasses.field(metadata={"static": True}, **kwargs)


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, static_field))
def pytree_dataclass(cls: type[T]) -> type[T]:
  """Makes ``cls`` a frozen dataclass whose non-static fields are pytree leaves.

  Args:
    cls: the class.

  Returns:
    The frozen dataclass, registered with ``jax.tree_util.register_dataclass``.
  """
  cls = dataclasses.dataclass(frozen=True)(cls)
  data: list[str] = []
  meta: list[str] = []
  for f in dataclasses.fields(cls):  # type: ignore[arg-type]
    (meta if f.metadata.get("static", False) else data).append(f.name)
  return jax.tree_util.register_dataclass(cls, data_fields=data, meta_fields=meta)


_DYNAMIC = object()   # marks a traced leaf in a call's static signature


def filter_jit(fn: Callable[..., Any]) -> Callable[..., Any]:
  """``fn`` compiled once per argument structure: the array leaves of the arguments (keys, a spec's data fields,
  parameters) are traced, every other leaf (sizes, choices, Python numbers) is static.

  Theory and sampling code called eagerly (in a plan or an evaluation) would otherwise dispatch every primitive on its
  own and compile each one on first use of its shape: one exact-loss evaluation cost 310 compilations (10 s) that
  way. Inside an outer trace the program is inlined. Non-hashable non-array leaves are an error (as for
  ``static_argnums``).
  """
  @functools.cache
  def compiled(treedef: Any, static: tuple[Any, ...]) -> Callable[..., Any]:
    def run(*dynamic):
      it = iter(dynamic)
      args, kwargs = jax.tree.unflatten(treedef, [next(it) if s is _DYNAMIC else s for s in static])
      return fn(*args, **kwargs)
    run.__name__ = run.__qualname__ = getattr(fn, "__name__", "run")   # the program's name in logs and dumps
    return jax.jit(run)

  @functools.wraps(fn)
  def wrapped(*args, **kwargs):
    leaves, treedef = jax.tree.flatten((args, kwargs))
    static = tuple(_DYNAMIC if isinstance(x, (jax.Array, np.ndarray)) else x for x in leaves)
    return compiled(treedef, static)(*[x for x, s in zip(leaves, static) if s is _DYNAMIC])

  return wrapped
