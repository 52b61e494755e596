"""Run directories and atomic artefacts.

A run's workdir holds ``config.json`` (resolved config), ``metrics.jsonl`` (one JSON object per logged step),
``summary.json`` (final scalars and every trained-vs-theory comparison), ``params.npz`` and ``figures/*.png``.
Every file is written atomically: a temporary file in the same folder, fsync, then ``os.replace``. A run whose
``summary.json`` exists with the same config is finished and is not redone.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from icljax import validation

CONFIG, METRICS, SUMMARY, PARAMS, FIGURES = "config.json", "metrics.jsonl", "summary.json", "params.npz", "figures"


def to_jsonable(value: Any) -> Any:
  """Converts numpy/JAX scalars and arrays, tuples and non-finite floats into plain JSON values."""
  if isinstance(value, dict):
    return {str(k): to_jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [to_jsonable(v) for v in value]
  if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
    return to_jsonable(value.tolist())
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  return value


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
  """Writes ``data`` to ``path`` so that readers see the old file or the whole new one, never a part."""
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
  atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
  atomic_write_text(path, json.dumps(to_jsonable(obj), indent=2, sort_keys=True) + "\n")


def atomic_savez(path: str | os.PathLike, arrays: dict[str, Any]) -> None:
  """``np.savez`` (no pickle) written atomically."""
  buf = io.BytesIO()
  np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
  atomic_write_bytes(path, buf.getvalue())


def write_metrics(path: str | os.PathLike, rows: list[dict[str, Any]]) -> None:
  """Writes all metric rows as JSON lines, atomically (the file is small: one line per logged step)."""
  atomic_write_text(path, "".join(json.dumps(to_jsonable(r), sort_keys=True) + "\n" for r in rows))


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def read_json(path: str | os.PathLike) -> Any:
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
  with np.load(path, allow_pickle=False) as data:
    return {k: data[k] for k in data.files}


def check_workdir(workdir: str | os.PathLike, config: dict[str, Any]) -> str:
  """Says what a workdir holds for ``config`` without writing anything.

  Returns:
    ``'new'`` (absent or empty), ``'finished'`` (same config and a summary) or ``'partial'`` (same config, no
    summary yet).

  Raises:
    ConfigError: if the workdir is a file, or holds a run of a different config.
  """
  path = Path(workdir)
  if path.exists() and not path.is_dir():
    raise validation.ConfigError("workdir", str(path), "a directory (or a path that does not exist yet)")
  if not (path / CONFIG).exists():
    if path.exists() and any(p.name != FIGURES for p in path.iterdir()):
      raise validation.ConfigError("workdir", str(path), "an empty directory or one holding a run of this config")
    return "new"
  existing = read_json(path / CONFIG)
  if existing != to_jsonable(config):
    keys = sorted(k for k in set(existing) | set(config) if existing.get(k) != to_jsonable(config).get(k))
    raise validation.ConfigError(
        "workdir", str(path), f"a workdir of the same config (it holds a run that differs in {', '.join(keys)})")
  return "finished" if (path / SUMMARY).exists() else "partial"
