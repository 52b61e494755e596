"""Run directories and atomic artefacts.

A run's workdir holds ``config.json`` (resolved config), ``metrics.jsonl`` (one JSON object per logged step),
``summary.json`` (final scalars and every trained-vs-theory comparison), ``params.npz`` and ``figures/*.png``.
Every file is written atomically: a temporary file in the same folder, fsync, then ``os.replace``. A run whose
``summary.json`` exists with the same config is finished and is not redone. The file primitives live in
``icljax.artefacts`` and are re-exported here.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np

from icljax import validation
from icljax.artefacts import (
  atomic_savez,
  atomic_write_bytes,
  atomic_write_json,
  atomic_write_text,
  is_debris,
  load_npz,
  read_json,
  read_jsonl,
  to_jsonable,
  write_metrics,
)

__all__ = ["CHECKPOINT", "CONFIG", "FIGURES", "LOCK", "METRICS", "PARAMS", "SUMMARY", "TIMING", "ArtefactError",
           "NumericalFault", "PeerLost", "WorkdirLock", "atomic_savez", "atomic_write_bytes", "atomic_write_json",
           "atomic_write_text", "check_workdir", "is_debris", "load_checkpoint", "load_npz", "read_json", "read_jsonl",
           "read_metrics_checked", "save_checkpoint", "to_jsonable", "write_metrics"]

CONFIG, METRICS, SUMMARY, PARAMS, FIGURES = "config.json", "metrics.jsonl", "summary.json", "params.npz", "figures"


def check_workdir(workdir: str | os.PathLike, config: dict[str, Any]) -> str:
  """Says what a workdir holds for ``config`` without writing anything.

  Args:
    workdir: the run's directory.
    config: the run's config as written to ``config.json``.

  Returns:
    ``'new'`` (absent or empty), ``'finished'`` (same config and a summary) or ``'partial'`` (same config, no
    summary yet).

  Raises:
    ConfigError: if the workdir is a file, or holds a run of a different config.

  Reference: docs page "concepts/runs", section "A run's workdir" (a finished run is not redone).
  """
  path = Path(workdir)
  if path.exists() and not path.is_dir():
    raise validation.ConfigError("workdir", str(path), "a directory (or a path that does not exist yet)")
  if not (path / CONFIG).exists():
    if path.exists() and any(p.name not in (FIGURES, LOCK) and not is_debris(p) for p in path.iterdir()):
      raise validation.ConfigError("workdir", str(path), "an empty directory or one holding a run of this config")
    return "new"
  existing, wanted = read_json(path / CONFIG), to_jsonable(config)
  if existing != wanted:
    missing = object()   # a field present on one side only differs even when the other side's value is None
    keys = sorted(k for k in set(existing) | set(wanted) if existing.get(k, missing) != wanted.get(k, missing))
    raise validation.ConfigError(
        "workdir", str(path), f"a workdir of the same config (it holds a run that differs in {', '.join(keys)})")
  return "finished" if (path / SUMMARY).exists() else "partial"


CHECKPOINT, TIMING, LOCK = "checkpoint.npz", "timing.json", ".lock"


class ArtefactError(ValueError):
  """An artefact found in a workdir is truncated or corrupted; it is reported and left untouched."""


class NumericalFault(RuntimeError):
  """A NaN or Inf appeared in the loss or the parameters; the last good checkpoint is intact."""


class PeerLost(RuntimeError):
  """Another process of a multi-process run stopped (a collective with it failed); the last good checkpoints are
  intact and the same command, run again on every process, resumes from them."""


def save_checkpoint(path: str | os.PathLike, state: Any) -> None:
  """Saves every leaf of a pytree (params, optimiser state, step) atomically, in flattening order.

  Args:
    path: the target (``checkpoint.npz``).
    state: the pytree.

  Raises:
    OSError: as :func:`atomic_write_bytes`.

  Reference: docs page "concepts/runs", section "A run's workdir" (``checkpoint.npz``).
  """
  leaves = jax.tree.leaves(state)
  atomic_savez(path, {f"leaf_{i:04d}": np.asarray(leaf) for i, leaf in enumerate(leaves)})


def load_checkpoint(path: str | os.PathLike, template: Any) -> Any:
  """Loads a checkpoint into the structure of ``template``; every leaf must match its shape and dtype.

  Args:
    path: the file (``checkpoint.npz``).
    template: a pytree of the run's state structure, shapes and dtypes.

  Returns:
    The state, its leaves as JAX arrays.

  Raises:
    ArtefactError: naming the file, if it is unreadable, truncated or does not match the run.

  Reference: docs page "concepts/runs", section "A run's workdir" (a killed run resumes from its last checkpoint).
  """
  leaves, treedef = jax.tree.flatten(template)
  try:
    arrays = load_npz(path)
  except Exception as e:  # pylint: disable=broad-except  (zipfile, OSError, ValueError, EOFError...)
    raise ArtefactError(f"{path} is truncated or corrupted ({type(e).__name__}: {e}); it was left as it is: "
                        "move it away to restart the run from step 0") from None
  keys = [f"leaf_{i:04d}" for i in range(len(leaves))]
  if sorted(arrays) != keys:
    raise ArtefactError(f"{path} holds {len(arrays)} arrays where this run has {len(leaves)}; it was left as it is")
  out = []
  for key, leaf in zip(keys, leaves):
    a = arrays[key]
    if a.shape != np.shape(leaf) or a.dtype != np.asarray(leaf).dtype:
      raise ArtefactError(f"{path}: {key} has shape {a.shape} {a.dtype}, the run expects {np.shape(leaf)} "
                          f"{np.asarray(leaf).dtype}; it was left as it is")
    out.append(jax.numpy.asarray(a))
  return jax.tree.unflatten(treedef, out)


def read_metrics_checked(path: str | os.PathLike) -> list[dict[str, Any]]:
  """Reads metrics.jsonl, raising ArtefactError (with the line number) on a truncated or corrupted line.

  Args:
    path: the file.

  Returns:
    One dict per line, each with a ``step``.

  Raises:
    ArtefactError: if a line is not a JSON object with a ``step``.

  Reference: docs page "concepts/runs", section "Exit statuses" (status 2: a corrupted artefact).
  """
  rows = []
  with open(path, encoding="utf-8") as f:
    for i, line in enumerate(f, 1):
      try:
        row = json.loads(line)
        if not isinstance(row, dict) or "step" not in row:
          raise ValueError("not a metrics object")
      except ValueError as e:
        raise ArtefactError(f"{path} line {i} is corrupted ({e}); it was left as it is") from None
      rows.append(row)
  return rows


class WorkdirLock:
  """An exclusive advisory lock on ``<workdir>/.lock`` (released by the OS even when the process is killed)."""

  def __init__(self, workdir: str | os.PathLike):
    self.path = Path(workdir) / LOCK
    self._fd: int | None = None

  def __enter__(self) -> WorkdirLock:
    self.path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
      os.close(fd)
      holder = self.path.read_text().strip() or "another process"
      raise validation.ConfigError("workdir", str(self.path.parent),
                                   f"a workdir no other run is using (it is in use by pid {holder})") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    self._fd = fd
    for p in self.path.parent.iterdir():  # no writer can be mid-write while we hold the lock
      if is_debris(p):
        p.unlink()
    return self

  def __exit__(self, *exc) -> None:
    if self._fd is not None:
      fcntl.flock(self._fd, fcntl.LOCK_UN)
      os.close(self._fd)
      self._fd = None
