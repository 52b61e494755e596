"""Frozen dataclasses registered as JAX pytrees (static fields carry shapes and choices)."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import jax

T = TypeVar("T")


def static_field(**kwargs: Any) -> Any:
  """A dataclass field that is part of the pytree's structure (hashable, not traced)."""
  return dataclasses.field(metadata={"static": True}, **kwargs)


def pytree_dataclass(cls: type[T]) -> type[T]:
  """Makes ``cls`` a frozen dataclass whose non-static fields are pytree leaves."""
  cls = dataclasses.dataclass(frozen=True)(cls)
  data, meta = [], []
  for f in dataclasses.fields(cls):
    (meta if f.metadata.get("static", False) else data).append(f.name)
  return jax.tree_util.register_dataclass(cls, data_fields=data, meta_fields=meta)
