"""Plumbing shared by the absl entry points: configs by name, one-line errors with exit status 2, signals."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import jax
from absl import app, flags, logging

from icljax import compilation_cache, configs, runs, validation

_CACHE = flags.DEFINE_bool("compilation_cache", True, "Reuse compiled programs across runs through JAX's persistent "
                           "compilation cache ($ICLJAX_COMPILATION_CACHE, else ~/.cache/icljax/jax); "
                           "--nocompilation_cache turns it off.")
_QUIET = flags.DEFINE_bool("quiet", False, "No progress lines: only the final line, failures on stderr and the exit "
                           "status.")
_VERBOSE = flags.DEFINE_bool("verbose", False, "Also every chunk's losses, every check with its tolerance, the "
                             "time split (plan/compile/train/evaluate/figures) and JAX's own info logs (stderr).")


def fail(message: str) -> NoReturn:
  """Prints one line on stderr and exits with status 2 (bad input; nothing was written)."""
  print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
  sys.exit(2)


def _resolve_config_args(argv: Sequence[str]) -> list[str]:
  """``--config=NAME[:arg]`` of a packaged config becomes its file path, so configs are found from any directory."""
  out = list(argv)
  for i, arg in enumerate(out):
    if arg.startswith("--config="):
      out[i] = "--config=" + configs.resolve(arg.split("=", 1)[1])
    elif arg == "--config" and i + 1 < len(out):
      out[i + 1] = configs.resolve(out[i + 1])
  return out


def _config_fields(argv: Sequence[str]) -> list[str]:
  for arg in argv:
    if arg.startswith("--config="):
      try:
        return sorted(configs.load(arg.split("=", 1)[1]).keys())
      except Exception:  # pylint: disable=broad-except  (only used to enrich an error message)
        return []
  return []


def parse_flags(argv: Sequence[str]) -> list[str]:
  """absl ``flags_parser`` that resolves config names and turns every parsing failure into one line, exit 2."""
  try:
    argv = _resolve_config_args(argv)
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(str(e).replace("flag --", "--"))
  except (AttributeError, KeyError) as e:
    # ml_collections raises these for an override of a field that does not exist.
    missing = str(e).strip("'\"")
    bad = [a for a in argv if a.startswith("--config.") and missing in a.split("=", 1)[0].split(".")]
    fields = _config_fields(argv)
    fail(f"{bad[0] if bad else '--config.' + missing} is invalid: no such config field"
         + (f" (fields: {', '.join(fields)})" if fields else ""))
  except validation.ConfigError as e:
    fail(str(e))
  except (OSError, SyntaxError, ValueError, TypeError) as e:
    fail(f"could not load the config: {e}")


class Terminated(Exception):
  """Raised in the main thread when SIGTERM arrives."""


def guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
  """Runs ``fn`` and turns the toolkit's user-facing failures into one line on stderr and an exit status.

  ConfigError / ArtefactError -> 2 (bad input or a corrupted artefact; nothing overwritten), NumericalFault -> 3
  (NaN/Inf; the last good checkpoint is intact), SIGINT -> 130, SIGTERM -> 143 (rerun the same command to resume
  from the last checkpoint).
  """

  def on_term(signum, frame):
    del signum, frame
    raise Terminated()

  signal.signal(signal.SIGTERM, on_term)
  # Explicitly: a process started in the background by a non-interactive shell inherits SIGINT ignored, and Python
  # then installs no KeyboardInterrupt handler; the exit-130 contract must not depend on the parent.
  signal.signal(signal.SIGINT, signal.default_int_handler)
  try:
    return fn(*args, **kwargs)
  except (validation.ConfigError, runs.ArtefactError) as e:
    fail(str(e))
  except runs.NumericalFault as e:
    print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
    sys.exit(3)
  except KeyboardInterrupt:
    print("interrupted (SIGINT): rerun the same command to resume from the last checkpoint", file=sys.stderr)
    sys.exit(130)
  except Terminated:
    print("terminated (SIGTERM): rerun the same command to resume from the last checkpoint", file=sys.stderr)
    sys.exit(143)


def start(argv: Sequence[str]) -> None:
  """The prologue of every entry point: no positional arguments; absl logging at warnings (info with --verbose)."""
  if len(argv) > 1:
    fail(f"unexpected arguments: {' '.join(argv[1:])}")
  if _QUIET.value and _VERBOSE.value:
    fail("--quiet and --verbose exclude each other")
  logging.set_verbosity(logging.INFO if _VERBOSE.value else logging.WARNING)


def printer() -> Callable[[str], None]:
  """Progress lines on stdout (flushed); nothing with ``--quiet`` or on any process but 0 of a multi-process run."""
  return (lambda s: None) if _QUIET.value or jax.process_index() else (lambda s: print(s, flush=True))


def quiet() -> bool:
  """Whether ``--quiet`` was given."""
  return _QUIET.value


def run_app(main: Callable[[list[str]], int]) -> None:
  """Starts an absl app with JAX's flags (``--jax_enable_x64``, ``--jax_platforms``), one-line flag errors and the
  persistent compilation cache (unless ``--nocompilation_cache``)."""
  jax.config.parse_flags_with_absl()

  def with_cache(argv: list[str]) -> int:
    if _CACHE.value:
      compilation_cache.enable()
    return main(argv)

  app.run(with_cache, flags_parser=parse_flags)
