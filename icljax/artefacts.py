"""Atomic, reproducible artefact files: plain-JSON conversion, atomic writes, a byte-reproducible ``.npz``, readers.

Every file is written atomically: a temporary file ``.<name>.<random>.tmp`` in the target's folder, fsync, then
``os.replace``, so readers see the old file or the whole new one. ``icljax.runs`` re-exports every function here
(``runs.atomic_write_json`` and ``artefacts.atomic_write_json`` are the same function).
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
  """Converts numpy/JAX scalars and arrays, tuples and non-finite floats into plain JSON values.

  Args:
    value: dicts (keys become strings), lists, tuples, arrays and scalars, nested.

  Returns:
    The plain value; a non-finite float becomes its string (``'nan'``, ``'inf'``, ``'-inf'``).

  Reference: docs page "concepts/runs", section "A run's workdir".
  """
  if isinstance(value, dict):
    return {str(k): to_jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [to_jsonable(v) for v in value]
  if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
    return to_jsonable(value.tolist())
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  return value


_TMP_SUFFIX = ".tmp"   # atomic writes go through '.<name>.<random>.tmp' in the target's folder


def is_debris(path: Path) -> bool:
  """A temporary file an atomic write left behind when its process was killed before ``os.replace``.

  Args:
    path: a file of a workdir.

  Returns:
    Whether it is such a file (``.<name>.<random>.tmp``).

  Reference: docs page "concepts/runs", section "A run's workdir" (files are written atomically).
  """
  return path.name.startswith(".") and path.name.endswith(_TMP_SUFFIX) and path.is_file()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
  """Writes ``data`` to ``path`` so that readers see the old file or the whole new one, never a part.

  Args:
    path: the target (its folder is created).
    data: the content.

  Raises:
    OSError: if writing fails (on any exception the temporary file is removed first; ``path`` is untouched).

  Reference: docs page "concepts/runs", section "A run's workdir" (files are written atomically).
  """
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
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
  """Writes UTF-8 ``text`` to ``path`` atomically (:func:`atomic_write_bytes`).

  Args:
    path: the target.
    text: the content.

  Raises:
    OSError: as :func:`atomic_write_bytes`.

  Reference: docs page "concepts/runs", section "A run's workdir".
  """
  atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
  """Writes ``obj`` as indented JSON with sorted keys (:func:`to_jsonable` first), atomically.

  Args:
    path: the target.
    obj: the value.

  Raises:
    OSError: as :func:`atomic_write_bytes`.

  Reference: docs page "concepts/runs", section "A run's workdir" (``config.json``, ``summary.json``).
  """
  atomic_write_text(path, json.dumps(to_jsonable(obj), indent=2, sort_keys=True) + "\n")


def atomic_savez(path: str | os.PathLike, arrays: dict[str, Any]) -> None:
  """An ``.npz`` (no pickle, readable by ``np.load``) written atomically and byte-for-byte reproducibly.

  ``np.savez`` stamps each zip entry with the current time, so two identical runs would differ; here every entry
  carries a fixed date, so the same arrays always give the same bytes.

  Args:
    path: the target.
    arrays: name -> array (stored as ``<name>.npy``, uncompressed).

  Raises:
    OSError: as :func:`atomic_write_bytes`.

  Reference: docs page "concepts/runs", section "A run's workdir" (``params.npz``, ``checkpoint.npz``).
  """
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
    for key, value in arrays.items():
      info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
      data = io.BytesIO()
      np.lib.format.write_array(data, np.asarray(value), allow_pickle=False)
      zf.writestr(info, data.getvalue())
  atomic_write_bytes(path, buf.getvalue())


def write_metrics(path: str | os.PathLike, rows: list[dict[str, Any]]) -> None:
  """Writes all metric rows as JSON lines, atomically (the file is small: one line per logged step).

  Args:
    path: the target (``metrics.jsonl``).
    rows: one dict per logged step.

  Raises:
    OSError: as :func:`atomic_write_bytes`.

  Reference: docs page "concepts/runs", section "A run's workdir" (``metrics.jsonl``).
  """
  atomic_write_text(path, "".join(json.dumps(to_jsonable(r), sort_keys=True) + "\n" for r in rows))


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
  """Reads a JSON-lines file, skipping blank lines.

  Args:
    path: the file.

  Returns:
    One parsed value per line.

  Reference: docs page "concepts/runs", section "A run's workdir".
  """
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def read_json(path: str | os.PathLike) -> Any:
  """Reads a JSON file.

  Args:
    path: the file.

  Returns:
    The parsed value.

  Reference: docs page "concepts/runs", section "A run's workdir".
  """
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
  """Reads every array of an ``.npz`` (no pickle).

  Args:
    path: the file.

  Returns:
    name -> array.

  Reference: docs page "concepts/runs", section "A run's workdir".
  """
  with np.load(path, allow_pickle=False) as data:
    return {k: data[k] for k in data.files}
