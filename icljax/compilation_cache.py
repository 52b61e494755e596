"""JAX's persistent compilation cache, kept in a user cache directory.

Compiled XLA programs are stored on disk and reused by later processes that compile the same program (same shapes,
same code, same JAX version and backend), so a second main job skips most of its compilation. The entry points
enable it unless ``--nocompilation_cache`` is given or ``ICLJAX_COMPILATION_CACHE=0`` is set; the directory is
``$ICLJAX_COMPILATION_CACHE`` when that names a path, else ``$XDG_CACHE_HOME/icljax/jax`` (default
``~/.cache/icljax/jax``). A cached program is the same executable, so results are bitwise those of a fresh compile.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

ENV = "ICLJAX_COMPILATION_CACHE"


def default_dir() -> Path | None:
  """The cache directory, or None when the environment turns the cache off.

  Returns:
    ``$ICLJAX_COMPILATION_CACHE`` if it names a path; None if it is ``0``/``off``; else
    ``$XDG_CACHE_HOME/icljax/jax`` (``~/.cache/icljax/jax``). ``1``/``on``/``true``/``yes`` and ``false``/``no``
    count as on and off too.

  Reference: docs page "concepts/runs", section "The main job" (the compilation cache).
  """
  value = os.environ.get(ENV, "")
  if value.lower() in ("0", "off", "false", "no"):
    return None
  if value and value.lower() not in ("1", "on", "true", "yes"):
    return Path(value)
  return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "icljax" / "jax"


def enable(path: str | os.PathLike | None = None, min_compile_seconds: float = 0.0) -> Path | None:
  """Turns the persistent cache on for this process.

  Args:
    path: the directory (default :func:`default_dir`; None there means off).
    min_compile_seconds: programs that compile faster than this are not stored (0: every program).

  Returns:
    The directory in use (created if absent), or None when the cache stays off.

  Reference: docs page "concepts/runs", section "The main job" (the compilation cache).
  """
  where = Path(path) if path is not None else default_dir()
  if where is None:
    return None
  where.mkdir(parents=True, exist_ok=True)
  jax.config.update("jax_compilation_cache_dir", str(where))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_seconds))
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  return where
